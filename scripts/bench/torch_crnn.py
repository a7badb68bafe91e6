"""PyTorch peer of glyphlab's custom CRNN, for scripts/bench/train.ts (benchmark only).

The same architecture as src/models/crnn.ts: per block conv 3x3 'same' without bias, batch
norm, ReLU, max pool; width becomes time; two bidirectional LSTM (or GRU) layers; dropout; a linear
layer over 16 symbols + blank; CTC loss (blank = last class); Adam. `--rnn gru` for GRU layers.

Protocol: prints one JSON line {"ready": ...} after setting up, then for every line "run" on
stdin times `--steps` training steps (after `--warmup` untimed ones on the first run) and prints
one JSON line with images/s and peak RSS; "quit" or end of input stops it. Keeping one process
lets train.ts interleave tfjs and PyTorch measurements on a machine whose load changes.
"""
import argparse
import json
import resource
import sys
import time

import torch
from torch import nn


def build(args):
    layers = []
    channels = 1
    height, width = args.height, args.width
    for filters, pool in zip(args.filters, args.pools):
        layers += [
            nn.Conv2d(channels, filters, 3, padding=1, bias=False),
            nn.BatchNorm2d(filters, momentum=0.01, eps=1e-3),
            nn.ReLU(),
        ]
        if pool is not None:
            layers.append(nn.MaxPool2d(pool, pool))
            height, width = height // pool[0], width // pool[1]
        channels = filters
    return Crnn(nn.Sequential(*layers), channels * height, args), width


class Crnn(nn.Module):
    def __init__(self, features, feature_size, args):
        super().__init__()
        self.features = features
        cell = nn.GRU if args.rnn == 'gru' else nn.LSTM
        self.rnn = cell(feature_size, args.units, num_layers=args.layers, bidirectional=True, batch_first=True)
        self.dropout = nn.Dropout(0.2)
        self.logits = nn.Linear(2 * args.units, args.classes)

    def forward(self, x):
        x = self.features(x)  # [B, C, H, W]
        x = x.permute(0, 3, 2, 1).flatten(2)  # [B, W, H*C]: width is time, as in the tfjs model
        x, _ = self.rnn(x)
        return self.logits(self.dropout(x))  # [B, T, classes]


def parse_pools(text):
    pools = []
    for item in text.split(','):
        pools.append(None if item == 'none' else tuple(int(v) for v in item.split('x')))
    return pools


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--height', type=int, default=32)
    parser.add_argument('--width', type=int, default=128)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--filters', type=lambda s: [int(v) for v in s.split(',')], default=[32, 64, 128, 128])
    parser.add_argument('--pools', type=parse_pools, default=parse_pools('2x2,2x2,2x1,2x1'))
    parser.add_argument('--units', type=int, default=128)
    parser.add_argument('--rnn', choices=['lstm', 'gru'], default='lstm')
    parser.add_argument('--layers', type=int, default=2)
    parser.add_argument('--classes', type=int, default=17)
    parser.add_argument('--seed', type=int, default=7)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model, time_steps = build(args)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    ctc = nn.CTCLoss(blank=args.classes - 1, reduction='mean', zero_infinity=True)
    x = torch.randn(args.batch, 1, args.height, args.width)
    generator = torch.Generator().manual_seed(args.seed)
    lengths = torch.randint(5, 12, (args.batch,), generator=generator)
    targets = torch.randint(0, args.classes - 1, (int(lengths.sum()),), generator=generator)
    input_lengths = torch.full((args.batch,), time_steps, dtype=torch.long)

    def step():
        optimizer.zero_grad()
        log_probs = model(x).log_softmax(2).transpose(0, 1)  # CTCLoss wants [T, B, C]
        loss = ctc(log_probs, targets, input_lengths, lengths)
        loss.backward()
        optimizer.step()
        return float(loss)

    print(json.dumps({'ready': True, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
                      'parameters': sum(p.numel() for p in model.parameters()), 'timeSteps': time_steps}), flush=True)
    warmed = False
    for line in sys.stdin:
        command = line.strip()
        if command == 'quit':
            break
        if command != 'run':
            continue
        if not warmed:
            for _ in range(args.warmup):
                step()
            warmed = True
        start = time.perf_counter()
        loss = 0.0
        for _ in range(args.steps):
            loss = step()
        seconds = time.perf_counter() - start
        peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({'imagesPerSecond': args.batch * args.steps / seconds, 'seconds': seconds,
                          'loss': loss, 'peakRssMb': peak_rss_kb / 1024}), flush=True)


if __name__ == '__main__':
    main()
