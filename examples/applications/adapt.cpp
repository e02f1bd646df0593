// adapt.cpp: adapt.c in C++17. The library's handles live in std::unique_ptr
// with their free functions as deleters, and a failed call throws
// reptile::error carrying the library's message (docs/applications.md).
//
// Build: c++ -std=c++17 adapt.cpp $(pkg-config --cflags --libs reptile) -o adapt-cpp
// Run:   ./adapt-cpp MODEL_FILE SUPPORT_DIR QUERY.png...
// Prints what adapt.c prints: a line per query, the file, the predicted
// class and its probability.
#include <reptile/reptile.h>

#include <cstdint>
#include <iomanip>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace reptile {

struct error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws reptile::error("what: the library's message") when rc is not 0.
inline void check(int rc, const std::string &what)
{
    if (rc != 0)
        throw error(what + ": " + reptile_error_last());
}

template <class T, void (*Free)(T *)> struct deleter {
    void operator()(T *p) const { Free(p); }
};
using learner_ptr = std::unique_ptr<reptile_learner, deleter<reptile_learner, reptile_learner_free>>;
using adapted_ptr = std::unique_ptr<reptile_adapted, deleter<reptile_adapted, reptile_adapted_free>>;
using dataset_ptr = std::unique_ptr<reptile_dataset, deleter<reptile_dataset, reptile_dataset_free>>;

// A model adapted to one task: class probabilities of query images.
class adapted {
public:
    adapted(adapted_ptr p, int outputs) : p_(std::move(p)), outputs_(outputs) {}
    int ways() const { return reptile_adapted_ways(p_.get()); }

    // count images in, count rows of outputs() probabilities out.
    std::vector<float> predict(const float *queries, int count,
                               int mode = REPTILE_PREDICT_WITH_SUPPORT)
    {
        std::vector<float> probs(static_cast<size_t>(count) * static_cast<size_t>(outputs_));
        check(reptile_adapted_predict(p_.get(), queries, count, mode, probs.data()), "predicting");
        return probs;
    }

private:
    adapted_ptr p_;
    int outputs_;
};

// A meta-trained model with its adaptation settings. Immutable: one learner
// may adapt tasks on many threads at once.
class learner {
public:
    explicit learner(const std::string &path)
    {
        reptile_learner *l = nullptr;
        check(reptile_learner_load(&l, path.c_str()), path);
        p_.reset(l);
    }
    const reptile_model *model() const { return reptile_learner_model(p_.get()); }

    // Images are read as the model's training data was: its input shape.
    reptile_image_options image_options() const
    {
        reptile_image_options img;
        check(reptile_image_options_init(&img, REPTILE_IMAGE_OPTIONS_VERSION), "image options");
        reptile_model_input_shape(model(), &img.height, &img.width, &img.channels);
        return img;
    }

    adapted adapt(const std::vector<float> &images, const std::vector<int32_t> &labels, int ways,
                  uint64_t seed = 1) const
    {
        reptile_adapted *a = nullptr;
        check(reptile_learner_adapt(p_.get(), &a, images.data(), labels.data(),
                                    static_cast<int>(labels.size()), ways, seed),
              "adapting");
        return adapted(adapted_ptr(a), reptile_model_num_outputs(model()));
    }

private:
    learner_ptr p_;
};

// A folder of class folders: images labelled 0 .. N-1 in byte order of names.
struct support_set {
    dataset_ptr ds;
    std::vector<float> images;
    std::vector<int32_t> labels;

    support_set(const std::string &dir, const reptile_image_options &img)
    {
        reptile_dataset *d = nullptr;
        check(reptile_dataset_open_folder(&d, dir.c_str(), &img), dir);
        ds.reset(d);
        const size_t floats = static_cast<size_t>(img.height) * img.width * img.channels;
        images.resize(static_cast<size_t>(reptile_dataset_num_images(d)) * floats);
        for (int l = 0; l < ways(); l++)
            for (int i = 0; i < reptile_dataset_class_size(d, l); i++) {
                reptile_dataset_get_image(d, l, i, images.data() + labels.size() * floats);
                labels.push_back(l);
            }
    }
    int ways() const { return reptile_dataset_num_classes(ds.get()); }
    std::string name(int l) const
    {
        const char *n = nullptr;
        reptile_dataset_class_info(ds.get(), l, nullptr, &n, nullptr, nullptr);
        return n;
    }
};

} // namespace reptile

int main(int argc, char **argv)
{
    if (argc < 4) {
        std::cerr << "Usage: adapt-cpp MODEL_FILE SUPPORT_DIR QUERY.png...\n";
        return 2;
    }
    try {
        const reptile::learner learner(argv[1]);
        const reptile_image_options img = learner.image_options();
        const reptile::support_set support(argv[2], img);
        reptile::adapted adapted = learner.adapt(support.images, support.labels, support.ways());

        std::vector<float> query(static_cast<size_t>(img.height) * img.width * img.channels);
        for (int q = 3; q < argc; q++) {
            reptile::check(reptile_image_load(argv[q], &img, query.data()), argv[q]);
            const std::vector<float> probs = adapted.predict(query.data(), 1);
            int best = 0; // among the task's classes: outputs past ways() are none
            for (int l = 1; l < adapted.ways(); l++)
                if (probs[l] > probs[best])
                    best = l;
            std::cout << argv[q] << ' ' << support.name(best) << ' ' << std::fixed
                      << std::setprecision(4) << probs[best] << '\n';
        }
    } catch (const std::exception &e) {
        std::cerr << "adapt-cpp: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
