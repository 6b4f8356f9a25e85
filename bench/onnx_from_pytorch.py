#!/usr/bin/python3
"""onnx_from_pytorch.py - the PyTorch half of bench/onnx_from_pytorch.sh.

Trains the `mnist-paper` network (Conv2d 12 3x3 + ReLU -> MaxPool 2 ->
Flatten -> Linear 10) on MNIST with PyTorch (batch 32, Adam lr 1e-3, 2
threads, seed 1: the model and training loop of pytorch_mnist_paper.py), computes its test accuracy and per-image predictions, and
exports it with torch.onnx.export (opset 13). The input normalisation is
mcuopt's MNIST one computed the way mcuopt computes it in float32,
(pixel * float32(1/255) - 0.1307) / 0.3081, so both tools see the very same
input values. Writes OUTDIR/model.onnx, OUTDIR/pytorch_predictions.u8 (the
predicted class of each test image) and OUTDIR/test_images.f32 (the first
1000 normalised test images, NCHW float32, for the QDQ check) and prints one
JSON line.

Usage: /usr/bin/python3 bench/onnx_from_pytorch.py OUTDIR [mnist_dir] [epochs]
What it leaves out: GPU, data loaders, learning-rate schedules.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_mnist_paper import mnist_paper_model, read_idx, train  # noqa: E402


def load(directory, split):
    raw = read_idx(f"{directory}/{split}-images-idx3-ubyte.gz").astype(np.float32)
    x = (raw * np.float32(1 / 255) - np.float32(0.1307)) / np.float32(0.3081)
    labels = read_idx(f"{directory}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return torch.from_numpy(x[:, None, :, :].copy()), torch.from_numpy(labels)


def main():
    out = sys.argv[1]
    directory = sys.argv[2] if len(sys.argv) > 2 else "../shared/data/mnist"
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    torch.set_num_threads(2)
    torch.manual_seed(1)
    x_train, y_train = load(directory, "train")
    x_test, y_test = load(directory, "t10k")
    model = mnist_paper_model()
    seconds = train(model, x_train, y_train, epochs)
    model.eval()
    with torch.no_grad():
        predictions = model(x_test).argmax(1)
    correct = int((predictions == y_test).sum().item())
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), os.path.join(out, "model.onnx"), opset_version=13,
                      input_names=["image"], output_names=["logits"])
    predictions.numpy().astype(np.uint8).tofile(os.path.join(out, "pytorch_predictions.u8"))
    x_test[:1000].numpy().astype("<f4").tofile(os.path.join(out, "test_images.f32"))
    print(json.dumps({"framework": "pytorch " + torch.__version__, "epochs": epochs,
                      "train_seconds": round(seconds, 2), "test_correct": correct,
                      "test_accuracy": correct / len(y_test)}))


if __name__ == "__main__":
    main()
