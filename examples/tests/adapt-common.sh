# Sourced by the adaptation tests after common.sh: a task and a model made
# here, so that no downloaded data is needed.
#
# make_task MAKE_CLASSES TRAIN writes, in $tmp:
# - train/: 20 synthetic classes of 12 images, 28 x 28 (make-classes.c);
# - support/: 5 other classes (class100 .. class104) of 5 images each,
#   40 x 40, so that reptile-adapt has to resize them;
# - query/: 3 more images of each support class, CLASS-NN.png;
# - model.safetensors: the tutorial's network meta-trained on train/ for
#   10 iterations by examples/applications/train.c (the paper's settings:
#   a training state that carries the Adam state adaptation starts from).
make_task() {
    mkdir -p "$tmp/query" &&
        "$1" "$tmp/train" 20 12 28 &&
        "$1" "$tmp/support" 5 8 40 100 || { echo "FAIL: make-classes"; exit 1; }
    for class in "$tmp"/support/*; do
        for i in 05 06 07; do
            mv "$class/image$i.png" "$tmp/query/${class##*/}-$i.png" || exit 1
        done
    done
    "$2" "$tmp/train" "$tmp/model.safetensors" 10 >"$tmp/train.log" 2>&1 || {
        echo "FAIL: meta-training the test model:"
        cat "$tmp/train.log"
        exit 1
    }
}

# correct CSV: how many rows of reptile-adapt's CSV name the class the
# file's name or folder starts with (query/CLASS-NN.png, support/CLASS/...).
correct() {
    awk -F, 'NR > 1 { n = split($1, p, "/"); f = p[n - 1] "/" p[n];
                      if (index(f, $2 "/") == 1 || index(p[n], $2 "-") == 1) ok++ }
             END { print ok + 0 }' "$1"
}
