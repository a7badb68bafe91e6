"""Recipe screen for the quick equation CRNN in PyTorch: many variants at a fixed image budget,
run in parallel (on a GPU when there is one), scored by greedy exact-match on validation images.
docs/recipes.md (step 7) reports what it found; glyphlab's own runs then confirm a winner.

The model mirrors src/models/crnn.ts: 3x3 convolutions without bias, batch norm (eps 1e-3),
ReLU, pools 2x2, 2x2, 2x1, 2x1; width becomes time; bidirectional GRU (or LSTM) layers; dropout;
a linear layer over 16 symbols + blank; CTC summed per sample and averaged over the batch (as
glyphlab's loss); Keras-style initialisation; Adam (AdamW with `wd`); gradient norm clipped;
linear warm-up then a cosine (or linear) decay over the run's steps.

Data: `scripts/bench/recipe-screen-export.ts` writes PREFIX-{train,val}.{u8,txt} (8-bit grey
model inputs through glyphlab's loader). `pack PREFIX` quantises them to 4 bits and xz-compresses
them (PREFIX-{train,val}.q4.xz, about 50 MB for 51,200 images) for moving to another machine;
the screen reads either form.

  python3 scripts/bench/recipe_screen.py pack /tmp/eq64k
  python3 scripts/bench/recipe_screen.py screen /tmp/eq64k plan.jsonl results.jsonl --parallel 14

A plan is one JSON object per line, each overriding DEFAULTS (e.g. {"wd": 0.05, "seed": 1,
"name": "adamw05"}); results are one JSON line per run with its validation exact-match.
"""
import argparse
import json
import lzma
import math
import os
import subprocess
import sys
import time

import numpy as np

ALPHABET = '0123456789+-*()='  # 16 symbols; the CTC blank is 16
HEIGHT, WIDTH = 32, 150


def pack(prefix):
    """PREFIX-{train,val}.u8 -> 4-bit, two pixels a byte, xz-compressed PREFIX-{train,val}.q4.xz."""
    for name in ('train', 'val'):
        pixels = np.fromfile(f'{prefix}-{name}.u8', dtype=np.uint8) >> 4
        packed = (pixels[0::2] << 4) | pixels[1::2]
        with open(f'{prefix}-{name}.q4.xz', 'wb') as f:
            f.write(lzma.compress(packed.tobytes()))


def load_images(prefix, name):
    """[n, HEIGHT, WIDTH] uint8 pixel values (4-bit packs come back as their bucket centres)."""
    if os.path.exists(f'{prefix}-{name}.u8'):
        return np.fromfile(f'{prefix}-{name}.u8', dtype=np.uint8).reshape(-1, HEIGHT, WIDTH)
    packed = np.frombuffer(lzma.open(f'{prefix}-{name}.q4.xz').read(), dtype=np.uint8)
    q = np.empty(packed.size * 2, np.uint8)
    q[0::2] = packed >> 4
    q[1::2] = packed & 15
    return (q * 16 + 8).astype(np.uint8).reshape(-1, HEIGHT, WIDTH)


def cache(prefix, work):
    """Decodes the data once into .npy files the runs map."""
    os.makedirs(work, exist_ok=True)
    for name in ('train', 'val'):
        if not os.path.exists(f'{work}/{name}.npy'):
            np.save(f'{work}/{name}.npy', load_images(prefix, name))
            with open(f'{prefix}-{name}.txt') as f:
                json.dump(f.read().split('\n'), open(f'{work}/{name}.json', 'w'))


DEFAULTS = dict(images=85000, batch=32, lr=3e-3, warm=0.1, filters=[16, 32, 64, 96], units=128, layers=2, rnn='gru',
                dropout=0.2, bnm=0.1, clip=5.0, seed=0, ema=0.0, beta2=0.999, pool=0, curriculum=0.0, head='rnn',
                wd=0.0, sched='cosine', ln=False, resid=False, evals=4, final_lr=0.0, device='cuda')


def run(cfg):
    import torch
    from torch import nn
    import torch.nn.functional as F
    c = dict(DEFAULTS)
    c.update(cfg)
    torch.manual_seed(c['seed'])
    rng = np.random.default_rng(c['seed'])
    dev = c['device']
    data = c['data']
    xtr = torch.from_numpy(np.load(f'{data}/train.npy'))
    labels = json.load(open(f'{data}/train.json'))
    if c['pool']:
        xtr = xtr[:c['pool']]
        labels = labels[:c['pool']]
    xtr = xtr.to(dev)
    xva = torch.from_numpy(np.load(f'{data}/val.npy')).to(dev)
    lva = json.load(open(f'{data}/val.json'))
    enc = [torch.tensor([ALPHABET.index(ch) for ch in l], dtype=torch.long) for l in labels]
    lens = np.array([len(l) for l in labels])

    def to_x(pixels):  # [-1, 1] as glyphlab's x / 255 * 2 - 1
        return (pixels.float() / 255 * 2 - 1).unsqueeze(1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            layers, ch, h = [], 1, 32
            pools = [(2, 2), (2, 2), (2, 1), (2, 1)]
            for f, p in zip(c['filters'], pools):
                layers += [nn.Conv2d(ch, f, 3, padding=1, bias=False), nn.BatchNorm2d(f, momentum=c['bnm'], eps=1e-3), nn.ReLU(), nn.MaxPool2d(p, p)]
                ch, h = f, h // p[0]
            self.features = nn.Sequential(*layers)
            fsize = ch * h
            self.ln = nn.LayerNorm(fsize) if c['ln'] else None
            if c['head'] == 'rnn':
                cell = nn.GRU if c['rnn'] == 'gru' else nn.LSTM
                self.rnns = nn.ModuleList()
                for i in range(c['layers']):
                    self.rnns.append(cell(fsize if i == 0 else 2 * c['units'], c['units'], bidirectional=True, batch_first=True))
                out = 2 * c['units']
            else:  # conv-only head: 1D convs over time
                k = int(c['head'].split(':')[1]) if ':' in c['head'] else 5
                convs, ch2 = [], fsize
                for i in range(c['layers']):
                    convs += [nn.Conv1d(ch2, 2 * c['units'], k, padding=k // 2), nn.BatchNorm1d(2 * c['units'], momentum=c['bnm']), nn.ReLU()]
                    ch2 = 2 * c['units']
                self.conv1d = nn.Sequential(*convs)
                out = ch2
            self.drop = nn.Dropout(c['dropout'])
            self.logits = nn.Linear(out, 17)
            for m in self.modules():  # Keras-style initialisation
                if isinstance(m, (nn.Conv2d, nn.Conv1d, nn.Linear)):
                    nn.init.xavier_uniform_(m.weight)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                if isinstance(m, (nn.GRU, nn.LSTM)):
                    for name, p in m.named_parameters():
                        if 'weight' in name:
                            g = 3 if isinstance(m, nn.GRU) else 4
                            for chunk in p.data.chunk(g, 0):
                                nn.init.xavier_uniform_(chunk)
                        else:
                            nn.init.zeros_(p)

        def forward(self, x):
            x = self.features(x)  # B C H W
            x = x.permute(0, 3, 2, 1).flatten(2)  # B W H*C
            if self.ln is not None:
                x = self.ln(x)
            if c['head'] == 'rnn':
                for i, r in enumerate(self.rnns):
                    y, _ = r(x)
                    x = y + x if (c['resid'] and i > 0) else y
            else:
                x = self.conv1d(x.transpose(1, 2)).transpose(1, 2)
            return self.logits(self.drop(x))

    net = Net().to(dev)
    params = sum(p.numel() for p in net.parameters())
    opt = torch.optim.AdamW(net.parameters(), lr=c['lr'], betas=(0.9, c['beta2']), eps=1e-7, weight_decay=c['wd']) if c['wd'] else \
        torch.optim.Adam(net.parameters(), lr=c['lr'], betas=(0.9, c['beta2']), eps=1e-7)
    ema = None
    if c['ema']:
        ema = {k: v.detach().clone() for k, v in net.state_dict().items()}
    B = c['batch']
    steps = c['images'] // B
    n = xtr.shape[0]

    def order():
        # epochs of shuffled indices; curriculum: first `curriculum` of steps draws only short labels
        idx = []
        while len(idx) < steps * B:
            idx.extend(rng.permutation(n).tolist())
        if c['curriculum']:
            cs = int(steps * c['curriculum']) * B
            short = np.where(lens <= np.median(lens))[0]
            k = math.ceil(cs / len(short))
            pre = np.concatenate([rng.permutation(short) for _ in range(k)])[:cs]
            idx = pre.tolist() + idx[: steps * B - cs]
        return idx

    idx = order()

    def lr_at(s):
        f = s / steps
        if f < c['warm']:
            return c['lr'] * f / c['warm']
        g = (f - c['warm']) / (1 - c['warm'])
        if c['sched'] == 'linear':
            return c['lr'] * (1 - g)
        return c['final_lr'] + (c['lr'] - c['final_lr']) * 0.5 * (1 + math.cos(math.pi * g))

    def evaluate(use_ema):
        if use_ema:
            saved = {k: v.detach().clone() for k, v in net.state_dict().items()}
            net.load_state_dict(ema)
        net.eval()
        ok = 0
        with torch.no_grad():
            for i in range(0, xva.shape[0], 500):
                lg = net(to_x(xva[i:i + 500])).argmax(-1).cpu().numpy()
                for j, row in enumerate(lg):
                    out, prev = [], -1
                    for t in row:
                        if t != prev and t != 16:
                            out.append(ALPHABET[t])
                        prev = t
                    ok += ''.join(out) == lva[i + j]
        net.train()
        if use_ema:
            net.load_state_dict(saved)
        return ok / xva.shape[0]

    ctc = nn.CTCLoss(blank=16, reduction='sum', zero_infinity=True)
    t0 = time.time()
    curve = []
    avg = None
    for s in range(steps):
        for g in opt.param_groups:
            g['lr'] = lr_at(s)
        b = idx[s * B:(s + 1) * B]
        x = to_x(xtr[b])
        tg = torch.cat([enc[i] for i in b]).to(dev)
        tl = torch.tensor([len(enc[i]) for i in b])
        lp = F.log_softmax(net(x), -1).transpose(0, 1)  # T B C
        loss = ctc(lp, tg, torch.full((len(b),), lp.shape[0], dtype=torch.long), tl) / len(b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if c['clip']:
            nn.utils.clip_grad_norm_(net.parameters(), c['clip'])
        opt.step()
        if ema is not None:
            with torch.no_grad():
                d = min(c['ema'], (1 + s) / (10 + s))
                for k, v in net.state_dict().items():
                    if v.dtype.is_floating_point:
                        ema[k].mul_(d).add_(v.detach(), alpha=1 - d)
                    else:
                        ema[k].copy_(v)
        lv = loss.item() if s % 50 == 0 else None
        if lv is not None:
            avg = lv if avg is None else 0.8 * avg + 0.2 * lv
        if c['evals'] and (s + 1) % max(1, steps // c['evals']) == 0 and s + 1 < steps:
            curve.append(((s + 1) * B, round(evaluate(False), 4)))
    acc = evaluate(False)
    res = dict(cfg=cfg, params=params, steps=steps, val=round(acc, 4), curve=curve, loss=avg, sec=round(time.time() - t0, 1))
    if ema is not None:
        res['val_ema'] = round(evaluate(True), 4)
    return res


def screen(args):
    work = args.work
    cache(args.prefix, work)
    runs = [json.loads(line) for line in open(args.plan) if line.strip() and not line.startswith('#')]
    device = args.device or ('cuda' if __import__('torch').cuda.is_available() else 'cpu')
    running = []
    with open(args.out, 'a') as out:
        while runs or running:
            while runs and len(running) < args.parallel:
                cfg = runs.pop(0)
                one = json.dumps(dict(cfg, data=work, device=device))
                running.append((subprocess.Popen([sys.executable, __file__, 'one', one], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True), cfg))
            for proc, cfg in list(running):
                if proc.poll() is None:
                    continue
                text = proc.stdout.read()
                lines = [line for line in text.split('\n') if line.startswith('{')]
                result = lines[-1] if lines else json.dumps(dict(cfg=cfg, error=text[-800:]))
                print(result, flush=True)
                out.write(result + '\n')
                out.flush()
                running.remove((proc, cfg))
            time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('pack', help='quantise and compress an export for moving it')
    p.add_argument('prefix')
    s = sub.add_parser('screen', help='run a plan')
    s.add_argument('prefix')
    s.add_argument('plan')
    s.add_argument('out')
    s.add_argument('--parallel', type=int, default=1, help='runs at once (default 1)')
    s.add_argument('--device', help='cuda or cpu (default cuda when available)')
    s.add_argument('--work', default='/tmp/recipe-screen', help='where the decoded data is cached')
    o = sub.add_parser('one', help=argparse.SUPPRESS)
    o.add_argument('cfg')
    args = parser.parse_args()
    if args.command == 'pack':
        pack(args.prefix)
    elif args.command == 'screen':
        screen(args)
    else:
        cfg = json.loads(args.cfg)
        result = run(cfg)
        for key in ('data', 'device'):
            result['cfg'].pop(key, None)
        print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
