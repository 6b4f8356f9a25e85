#!/usr/bin/python3
"""pytorch_mnist_paper.py - the PyTorch mnist-paper model and training loop that
bench/onnx_from_pytorch.py imports (bench/train_vs_pytorch.sh uses
bench/pytorch_train_epoch.py, which covers every built-in architecture).

Trains the `mnist-paper` network (Conv2D 12 3x3 valid + ReLU -> MaxPool 2 ->
Flatten -> Dense 10) on MNIST with the same settings as mcuopt's benchmark:
batch 32, Adam lr 1e-3 (0.9, 0.999, eps 1e-7), shuffled, the same input
normalisation ((pixel/255 - 0.1307) / 0.3081), 2 threads, CPU. All data is
loaded into tensors before the clock starts. Prints one JSON line with the
training seconds and the test accuracy.

Usage: /usr/bin/python3 bench/pytorch_mnist_paper.py [mnist_dir] [epochs] [threads]
What it leaves out: GPU, data loaders, learning-rate schedules.
"""
import gzip
import json
import struct
import sys
import time

import numpy as np
import torch


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(directory, split):
    images = read_idx(f"{directory}/{split}-images-idx3-ubyte.gz")
    labels = read_idx(f"{directory}/{split}-labels-idx1-ubyte.gz")
    x = (images.astype(np.float32) / 255.0 - 0.1307) / 0.3081
    return torch.from_numpy(x[:, None, :, :].copy()), torch.from_numpy(labels.astype(np.int64))


def mnist_paper_model():
    """Conv2d 12 3x3 + ReLU -> MaxPool 2 -> Flatten -> Linear 10."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 12, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(12 * 13 * 13, 10))


def train(model, x_train, y_train, epochs, batch=32):
    """Adam lr 1e-3 (0.9, 0.999, eps 1e-7), shuffled batches; returns the seconds taken."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(x_train.shape[0])
        for i in range(0, x_train.shape[0], batch):
            idx = order[i:i + batch]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
    return time.perf_counter() - start


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/mnist"
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x_train, y_train = load(directory, "train")
    x_test, y_test = load(directory, "t10k")
    model = mnist_paper_model()
    batch = 32
    seconds = train(model, x_train, y_train, epochs, batch)

    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    print(json.dumps({"framework": "pytorch " + torch.__version__, "epochs": epochs, "threads": threads,
                      "batch": batch, "train_seconds": round(seconds, 3), "test_accuracy": round(accuracy, 4)}))


if __name__ == "__main__":
    main()
