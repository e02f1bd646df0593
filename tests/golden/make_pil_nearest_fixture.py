#!/usr/bin/python3
"""The reference implementation's Omniglot preprocessing, as a fixture.

openai/supervised-reptile reads each character with PIL:
Image.open(path).resize((28, 28)), which for Omniglot's 1-bit PNGs is a
nearest-neighbour resize (Pillow always uses NEAREST for mode "1"), and
np.array(...).astype('float32') gives paper = 1.0, ink = 0.0.

This writes a 105x105 1-bit PNG of random strokes (Omniglot's size and
mode) and what PIL makes of it, so that tests check libreptile's
REPTILE_FILTER_NEAREST against PIL without PIL at run time:

  tests/fixtures/pil/strokes-105.png    the source image
  tests/fixtures/pil/strokes-28.txt     28 lines of 28 characters, 1 = paper

Run once with Debian's python3-pil: /usr/bin/python3 tests/golden/make_pil_nearest_fixture.py
"""
import os
import random

import numpy as np
from PIL import Image, ImageDraw

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'pil')


def main():
    rng = random.Random(20261202)
    img = Image.new('1', (105, 105), 1)
    draw = ImageDraw.Draw(img)
    for _ in range(6):  # pen strokes, 1 to 4 pixels wide, as in Omniglot
        points = [(rng.randrange(105), rng.randrange(105)) for _ in range(rng.randrange(2, 5))]
        draw.line(points, fill=0, width=rng.randrange(1, 5))
    os.makedirs(OUT, exist_ok=True)
    img.save(os.path.join(OUT, 'strokes-105.png'))
    small = np.array(Image.open(os.path.join(OUT, 'strokes-105.png')).resize((28, 28)))
    small = small.astype('float32')
    assert set(np.unique(small)) <= {0.0, 1.0}
    with open(os.path.join(OUT, 'strokes-28.txt'), 'w') as f:
        for row in small:
            f.write(''.join('1' if v else '0' for v in row) + '\n')


if __name__ == '__main__':
    main()
