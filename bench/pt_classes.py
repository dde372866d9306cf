#!/usr/bin/env python3
"""Digit classes in a `webgpu-rbm sample` PNG grid (docs/pt-ladder.md).

Each 28x28 tile (1-pixel padding, square grid) goes to the nearest class mean
of the bundled digits (assets/, pixels / 255), by Euclidean distance. Prints
the class histogram and the number of distinct classes.

  python3 bench/pt_classes.py samples.png [tiles]
"""
import gzip
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

ASSETS = Path(__file__).resolve().parent.parent / 'assets'


def read_png_gray(path):
    data = Path(path).read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat, w, h = 8, b'', 0, 0
    while pos < len(data):
        (n,) = struct.unpack('>I', data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, color = struct.unpack('>IIBB', body[:10])
            assert depth == 8 and color == 0, 'expects 8-bit grayscale'
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    out = np.zeros((h, w), dtype=np.int32)
    prev = np.zeros(w, dtype=np.int32)
    for y in range(h):
        f = raw[y * (w + 1)]
        line = np.frombuffer(raw[y * (w + 1) + 1:(y + 1) * (w + 1)], dtype=np.uint8).astype(np.int32)
        cur = np.zeros(w, dtype=np.int32)
        for x in range(w):
            a = cur[x - 1] if x > 0 else 0
            b = prev[x]
            c = prev[x - 1] if x > 0 else 0
            if f == 0:
                p = 0
            elif f == 1:
                p = a
            elif f == 2:
                p = b
            elif f == 3:
                p = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[x] = (line[x] + p) & 255
        out[y] = cur
        prev = cur
    return out


def idx(path):
    raw = gzip.open(path).read()
    dims = raw[3]
    shape = struct.unpack('>' + 'I' * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw[4 + 4 * dims:], dtype=np.uint8).reshape(shape)


def main():
    img = read_png_gray(sys.argv[1]) / 255.0
    cols = (img.shape[1] - 1) // 29
    rows = (img.shape[0] - 1) // 29
    count = int(sys.argv[2]) if len(sys.argv) > 2 else rows * cols
    images = idx(ASSETS / 'mnist-digits-images-idx3-ubyte.gz').reshape(-1, 784) / 255.0
    labels = idx(ASSETS / 'mnist-digits-labels-idx1-ubyte.gz')
    means = np.stack([images[labels == k].mean(0) for k in range(10)])
    tiles = []
    for t in range(count):
        r, c = divmod(t, cols)
        tiles.append(img[1 + r * 29:1 + r * 29 + 28, 1 + c * 29:1 + c * 29 + 28].reshape(784))
    tiles = np.stack(tiles)
    d = ((tiles[:, None, :] - means[None]) ** 2).sum(-1)
    cls = d.argmin(1)
    hist = np.bincount(cls, minlength=10)
    print('classes', ' '.join(f'{k}:{n}' for k, n in enumerate(hist)), 'distinct', int((hist > 0).sum()))


if __name__ == '__main__':
    main()
