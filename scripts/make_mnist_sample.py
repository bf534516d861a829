"""Cut the bundled offline sample (cvae/mnist_sample.npz) from full MNIST.

Usage: python scripts/make_mnist_sample.py [--data-dir DIR] [--train 4000] [--test 1000] [--seed 0]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from cvae.data import SAMPLE_FILE, load_mnist, make_sample  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data-dir")
parser.add_argument("--train", type=int, default=4000)
parser.add_argument("--test", type=int, default=1000)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
data = load_mnist(args.data_dir, download=False, allow_sample=False)
path = make_sample(data, args.train, args.test, args.seed)
print(f"wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB)")
