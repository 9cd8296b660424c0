"""PyTorch reference for TinyLM: nanoGPT's GPT architecture, the same corpus rules, the same
training recipe. Not part of the tests; run it beside `tinylm pretrain` to compare quality.

  python bench/nanogpt_reference.py pretrain [--steps 2000 ...]   # validation loss to compare
  python bench/nanogpt_reference.py fixture OUT.safetensors OUT.json  # a PyTorch-written
        micro checkpoint and its log-probabilities, for Tests/TinyLMTests/Fixtures

Corpus (as FortuneCorpus.swift): files of the fortunes directory with no '.' in their name,
sorted by name bytes; quotations between lines that are exactly '%', stripped; duplicates
dropped; the k-th distinct quotation goes to validation when k % 10 == 9; quotations longer
than block_size - 1 characters dropped. Vocabulary: <|bos|>, <|eos|>, then the characters in
code-point order. A document is BOS + characters + EOS, one a batch row, padded (targets -1).
Recipe (as Pretrainer.swift): AdamW (decay 0.1 on matrices only, betas 0.9/0.99), clipping at
1.0, linear warm-up then cosine decay to min_lr, batches of documents drawn uniformly with
replacement (its own random stream: same distribution, not the same draws).
Set-up: python3 -m venv /tmp/peer && . /tmp/peer/bin/activate && pip install numpy safetensors "torch==2.13.0+cpu"
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BOS, EOS = "<|bos|>", "<|eos|>"


class SelfAttention(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.n_head = n_head

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        shape = (B, T, self.n_head, C // self.n_head)
        q, k, v = (t.view(shape).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class MLP(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.c_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))  # exact (erf) GELU


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = SelfAttention(n_embd, n_head)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = MLP(n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd):
        super().__init__()
        self.cfg = dict(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer, n_head=n_head, n_embd=n_embd)
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab_size, n_embd),
            wpe=nn.Embedding(block_size, n_embd),
            h=nn.ModuleList([Block(n_embd, n_head) for _ in range(n_layer)]),
            ln_f=nn.LayerNorm(n_embd)))
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("c_proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx):  # idx (B, T) -> logits (B, T, V)
        T = idx.shape[1]
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(T))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


def load_corpus(directory, max_chars):
    names = sorted((n for n in os.listdir(directory) if "." not in n), key=lambda n: n.encode())
    seen, train, val, k = set(), [], [], 0
    for n in names:
        path = os.path.join(directory, n)
        if not os.path.isfile(path):
            continue
        text = open(path, "rb").read().decode("utf-8", errors="replace")
        pieces, cur = [], []
        for line in text.split("\n"):
            if line in ("%", "%\r"):
                pieces.append("\n".join(cur)); cur = []
            else:
                cur.append(line)
        pieces.append("\n".join(cur))
        for q in (p.strip() for p in pieces):
            if not q or q in seen:
                continue
            seen.add(q)
            if len(q) <= max_chars:
                (val if k % 10 == 9 else train).append(q)
            k += 1
    return train, val


def make_vocab(texts):
    return [BOS, EOS] + sorted(set("".join(texts)))


def encode(doc, stoi):
    return [0] + [stoi[c] for c in doc] + [1]


def batch_tensors(docs):
    T = max(len(d) for d in docs) - 1
    x = torch.zeros(len(docs), T, dtype=torch.long)
    y = torch.full((len(docs), T), -1, dtype=torch.long)
    for i, d in enumerate(docs):
        x[i, :len(d) - 1] = torch.tensor(d[:-1]); y[i, :len(d) - 1] = torch.tensor(d[1:])
    return x, y


def lr_at(it, a):
    if it < a.warmup:
        return a.lr * (it + 1) / (a.warmup + 1)
    if it > a.steps:
        return a.min_lr
    ratio = (it - a.warmup) / max(a.steps - a.warmup, 1)
    return a.min_lr + 0.5 * (1 + math.cos(math.pi * ratio)) * (a.lr - a.min_lr)


@torch.no_grad()
def evaluate(model, docs, bs=64):
    total, tokens, chars = 0.0, 0, 0
    for i in range(0, len(docs), bs):
        x, y = batch_tensors(docs[i:i + bs])
        lp = F.log_softmax(model(x), dim=-1)
        mask = y >= 0
        total -= lp.gather(-1, y.clamp(min=0).unsqueeze(-1)).squeeze(-1)[mask].double().sum().item()
        tokens += mask.sum().item()
        chars += sum(len(d) - 2 for d in docs[i:i + bs])
    return total / tokens, total / math.log(2) / chars


def pretrain(a):
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    train, val = load_corpus(a.corpus, a.block_size - 1)
    vocab = make_vocab(train + val)
    stoi = {c: i for i, c in enumerate(vocab)}
    tr = [encode(d, stoi) for d in train]
    va = [encode(d, stoi) for d in val]
    model = GPT(len(vocab), a.block_size, a.n_layer, a.n_head, a.n_embd)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    nodecay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": nodecay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.99), eps=1e-8)
    g = torch.Generator().manual_seed(a.seed)
    print(f"{len(tr)} train / {len(va)} validation documents, vocab {len(vocab)}", flush=True)
    t0 = time.time()
    for it in range(a.steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(it, a)
        ix = torch.randint(0, len(tr), (a.batch_size,), generator=g).tolist()
        x, y = batch_tensors([tr[i] for i in ix])
        loss = F.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1), ignore_index=-1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if (it + 1) % a.eval_interval == 0 or it + 1 == a.steps:
            nats, bpc = evaluate(model, va)
            print(f"step {it + 1}: train loss {loss.item():.4f}, validation loss {nats:.4f} nats/token, "
                  f"{bpc:.4f} bits/char ({time.time() - t0:.0f}s)", flush=True)


def fixture(a):
    """A micro model with random (not tiny) weights, saved by safetensors' PyTorch writer with
    lm_head.weight included, and the log-probabilities of a few texts computed by PyTorch."""
    from safetensors.torch import save_file
    torch.manual_seed(5)
    texts = ["hello world", "", "a", "held lower word\nhow"]
    vocab = make_vocab(texts)
    stoi = {c: i for i, c in enumerate(vocab)}
    model = GPT(len(vocab), 24, 2, 2, 16)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.3)
    sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    meta = {"vocab": json.dumps(vocab), "bos": "0", "eos": "1", "n_layer": "2", "n_head": "2",
            "n_embd": "16", "block_size": "24"}
    save_file(sd, a.out, metadata=meta)
    docs = [encode(t, stoi) for t in texts]
    with torch.no_grad():
        x, y = batch_tensors(docs)
        lp = F.log_softmax(model(x).double(), dim=-1).gather(-1, y.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        logprobs = [(lp[i] * (y[i] >= 0)).sum().item() for i in range(len(docs))]
    json.dump({"texts": texts, "logprobs": logprobs}, open(a.expected, "w"), indent=1)
    print(f"wrote {a.out} and {a.expected}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pretrain")
    p.add_argument("--corpus", default="/usr/share/games/fortunes")
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--block-size", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr", type=float, default=2e-4)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--eval-interval", type=int, default=500)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    f = sub.add_parser("fixture")
    f.add_argument("out")
    f.add_argument("expected")
    a = ap.parse_args()
    pretrain(a) if a.cmd == "pretrain" else fixture(a)


if __name__ == "__main__":
    main()
