#!/usr/bin/python3
"""pytorch_train_epoch.py - the PyTorch side of bench/train_vs_pytorch.sh.

Trains one of mcuopt's built-in architectures (mnist-paper, lenet5,
ds-cnn (alias ds-cnn-s), resnet8, mobilenet-v1-0.25, ad-autoencoder),
written layer for layer in torch.nn, for one epoch on synthetic data of the
architecture's input shape (random pixels normalised as mcuopt normalises
them, random labels; the autoencoder's target is its input, with MSE loss,
as mcuopt's `loss mse`), made and loaded into tensors
before the clock starts: batch 32, Adam (0.9, 0.999, eps 1e-7), shuffled
batches, CPU, torch.set_num_threads(threads). Prints one JSON line with the
training seconds (wall clock; cpu_seconds is the CPU time of all threads, a
rough guide on a busy machine only). bench/bench_train_epoch.c is the mcuopt side, with the same
sample counts.

"Same" padding with stride 2 is TensorFlow's (more padding after than
before) in mcuopt; here it is PyTorch's symmetric padding where that gives
the same output size (resnet8's stride-2 convolutions) and an explicit
asymmetric ZeroPad2d where it does not (ds-cnn's first convolution): the
same multiply-adds either way.

Usage: /usr/bin/python3 bench/pytorch_train_epoch.py ARCH [samples] [threads] [epochs]
What it leaves out: GPU, DataLoader workers, learning-rate schedules.
"""
import json
import sys
import time

import torch
from torch import nn

SAMPLES = {"mnist-paper": 60000, "lenet5": 10000, "ds-cnn": 2000, "ds-cnn-s": 2000, "resnet8": 2000,
           "mobilenet-v1-0.25": 2000, "ad-autoencoder": 2000}
INPUT = {"mnist-paper": (1, 28, 28), "lenet5": (1, 28, 28), "ds-cnn": (1, 49, 10), "ds-cnn-s": (1, 49, 10),
         "resnet8": (3, 32, 32), "mobilenet-v1-0.25": (3, 96, 96), "ad-autoencoder": (640,)}
CLASSES = {"mnist-paper": 10, "lenet5": 10, "ds-cnn": 12, "ds-cnn-s": 12, "resnet8": 10, "mobilenet-v1-0.25": 2,
           "ad-autoencoder": 2}


def ds_cnn():
    layers = [nn.ZeroPad2d((1, 1, 4, 5)), nn.Conv2d(1, 64, (10, 4), stride=2), nn.BatchNorm2d(64, eps=1e-3),
              nn.ReLU(), nn.Dropout(0.2)]
    for _ in range(4):
        layers += [nn.Conv2d(64, 64, 3, padding=1, groups=64), nn.BatchNorm2d(64, eps=1e-3), nn.ReLU(),
                   nn.Conv2d(64, 64, 1), nn.BatchNorm2d(64, eps=1e-3), nn.ReLU()]
    # MLPerf Tiny's AveragePooling2D(24x5) on the 25x5 map: the first 24 rows
    layers += [nn.Dropout(0.4), nn.AvgPool2d((24, 5)), nn.Flatten(), nn.Linear(64, 12)]
    return nn.Sequential(*layers)


def mobilenet_v1_025():
    def bn_relu(c):
        return [nn.BatchNorm2d(c, eps=1e-3), nn.ReLU()]
    layers = [nn.Conv2d(3, 8, 3, stride=2, padding=1)] + bn_relu(8)
    cin = 8
    for stride, cout in ((1, 16), (2, 32), (1, 32), (2, 64), (1, 64), (2, 128), (1, 128), (1, 128), (1, 128),
                         (1, 128), (1, 128), (2, 256), (1, 256)):
        layers += [nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin)] + bn_relu(cin)
        layers += [nn.Conv2d(cin, cout, 1)] + bn_relu(cout)
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 2))


def ad_autoencoder():
    layers, cin = [], 640
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        layers += [nn.Linear(cin, units), nn.BatchNorm1d(units, eps=1e-3), nn.ReLU()]
        cin = units
    return nn.Sequential(*layers, nn.Linear(cin, 640))


class ResidualStack(nn.Module):
    """conv-BN-ReLU-conv-BN plus a shortcut (identity, or 1x1 stride-2 conv), then ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.BatchNorm2d(cout, eps=1e-3),
                                  nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout, eps=1e-3))
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride) if stride != 1 else nn.Identity()

    def forward(self, x):
        return torch.relu(self.shortcut(x) + self.body(x))


def resnet8():
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16, eps=1e-3), nn.ReLU(),
                         ResidualStack(16, 16, 1), ResidualStack(16, 32, 2), ResidualStack(32, 64, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def model_of(arch):
    if arch == "mnist-paper":
        return nn.Sequential(nn.Conv2d(1, 12, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12 * 13 * 13, 10))
    if arch == "lenet5":
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84),
                             nn.ReLU(), nn.Linear(84, 10))
    if arch in ("ds-cnn", "ds-cnn-s"):
        return ds_cnn()
    if arch == "resnet8":
        return resnet8()
    if arch == "mobilenet-v1-0.25":
        return mobilenet_v1_025()
    if arch == "ad-autoencoder":
        return ad_autoencoder()
    raise SystemExit(f"pytorch_train_epoch.py: unknown architecture '{arch}'")


def main():
    arch = sys.argv[1] if len(sys.argv) > 1 else "mnist-paper"
    model = model_of(arch)
    samples = int(sys.argv[2]) if len(sys.argv) > 2 and int(sys.argv[2]) > 0 else SAMPLES[arch]
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    batch = 32
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    raw = torch.randint(0, 256, (samples,) + INPUT[arch], dtype=torch.uint8)
    x = (raw.float() / 255.0 - 0.1307) / 0.3081
    y = torch.randint(0, CLASSES[arch], (samples,))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, betas=(0.9, 0.999), eps=1e-7)
    reconstruction = arch == "ad-autoencoder"
    loss_fn = nn.MSELoss() if reconstruction else nn.CrossEntropyLoss()
    model.train()
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        order = torch.randperm(samples)
        for i in range(0, samples, batch):
            idx = order[i:i + batch]
            optimizer.zero_grad()
            loss = loss_fn(model(x[idx]), x[idx] if reconstruction else y[idx])
            loss.backward()
            optimizer.step()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    print(json.dumps({"framework": "pytorch " + torch.__version__, "arch": arch, "samples": samples,
                      "epochs": epochs, "threads": threads, "batch": batch, "train_seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3),
                      "final_loss": round(loss.item(), 4)}))


if __name__ == "__main__":
    main()
