#!/usr/bin/python3
"""Trains the ResMem base model: a small BERT-style encoder classifier, from token ids made by the TS side.

Run by `scripts/commands/train.ts` (which tokenizes with the runtime tokenizer); not meant to be run by hand,
but it can be: `/usr/bin/python3 scripts/train/train.py --work DIR` with DIR/ids.json and DIR/params.json.

Input  DIR/ids.json     {"labels": [...], "train"|"val"|"test": {"ids": [[int]], "labels": [int]}}
       DIR/params.json  hyperparameters (see DEFAULTS)
Output DIR/model.onnx   inputs input_ids, attention_mask (int64 [batch_size, sequence_length]); output logits
       DIR/result.json  per-epoch history, best epoch, torch logits of a few val examples (for the ORT check)
       DIR/history.json the history so far, rewritten after every epoch (to watch a long run)

Architecture (names match config.json's `resmem` block):
  token + position embeddings -> LayerNorm -> dropout -> N pre-LN transformer layers -> final LayerNorm
  -> masked MEAN pooling over tokens -> dense + tanh ("pooler") -> dropout -> `classifier` Linear.
The classifier's input (the pooler output) is the penultimate embedding that ResMem uses as its key.
"""
import argparse
import json
import math
import os
import sys
import time
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULTS = {
    "seed": 42,
    "epochs": 10,
    "batch_size": 32,
    "lr": 1e-3,
    "weight_decay": 0.01,
    "warmup_ratio": 0.06,
    "label_smoothing": 0.0,
    "dropout": 0.1,
    "hidden": 128,
    "layers": 2,
    "heads": 4,
    "intermediate": 512,
    "max_length": 256,
    "vocab_size": 8000,
    "threads": 2,
    # Early stop after this many epochs without a better val accuracy (0: never).
    "patience": 0,
}


class SelfAttention(nn.Module):
    def __init__(self, d, heads, dropout):
        super().__init__()
        self.heads = heads
        self.head_dim = d // heads
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)
        self.output = nn.Linear(d, d)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, bias):
        b, s, d = x.shape
        split = lambda t: t.view(b, s, self.heads, self.head_dim).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + bias
        probs = self.dropout(torch.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, d)
        return self.output(ctx)


class Layer(nn.Module):
    """Pre-LN transformer layer: x + attn(LN(x)), then x + ffn(LN(x)); trains stably from scratch at lr 1e-3."""

    def __init__(self, d, heads, intermediate, dropout):
        super().__init__()
        self.attention_norm = nn.LayerNorm(d, eps=1e-12)
        self.attention = SelfAttention(d, heads, dropout)
        self.ffn_norm = nn.LayerNorm(d, eps=1e-12)
        self.intermediate = nn.Linear(d, intermediate)
        self.ffn_output = nn.Linear(intermediate, d)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, bias):
        x = x + self.dropout(self.attention(self.attention_norm(x), bias))
        h = self.ffn_output(F.gelu(self.intermediate(self.ffn_norm(x))))
        return x + self.dropout(h)


class Classifier(nn.Module):
    def __init__(self, vocab_size, max_length, num_labels, hidden, layers, heads, intermediate, dropout):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, hidden)
        self.position_embeddings = nn.Embedding(max_length, hidden)
        self.embeddings_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList([Layer(hidden, heads, intermediate, dropout) for _ in range(layers)])
        self.final_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.pooler = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, num_labels)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        # BERT's initialisation.
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)
        if isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, input_ids, attention_mask):
        positions = torch.arange(input_ids.shape[1], dtype=torch.long).unsqueeze(0)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions)
        x = self.dropout(self.embeddings_norm(x))
        mask = attention_mask.to(x.dtype)
        # Additive key mask: padded keys get -1e9 before the softmax, so padding never changes a result.
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        x = self.final_norm(x)
        m = mask.unsqueeze(-1)
        pooled = (x * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
        embedding = torch.tanh(self.pooler(pooled))
        return self.classifier(self.dropout(embedding))


def make_batch(examples, idx):
    """Right-pads to the longest example in the batch with [PAD]=0."""
    longest = max(len(examples["ids"][i]) for i in idx)
    ids = torch.zeros((len(idx), longest), dtype=torch.long)
    mask = torch.zeros((len(idx), longest), dtype=torch.long)
    for row, i in enumerate(idx):
        seq = examples["ids"][i]
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    labels = torch.tensor([examples["labels"][i] for i in idx], dtype=torch.long)
    return ids, mask, labels


def train_batches(examples, batch_size, generator):
    """Shuffled batches of similar lengths (less padding): shuffle, sort within pools of 50 batches, shuffle
    the batches. Deterministic given the generator."""
    n = len(examples["ids"])
    perm = torch.randperm(n, generator=generator).tolist()
    pool = batch_size * 50
    batches = []
    for start in range(0, n, pool):
        chunk = sorted(perm[start : start + pool], key=lambda i: len(examples["ids"][i]))
        batches.extend(chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size))
    order = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in order]


@torch.no_grad()
def evaluate(model, examples, batch_size=64):
    model.eval()
    n = len(examples["ids"])
    order = sorted(range(n), key=lambda i: len(examples["ids"][i]))
    logits = torch.zeros((n, model.classifier.out_features))
    for j in range(0, n, batch_size):
        idx = order[j : j + batch_size]
        ids, mask, _ = make_batch(examples, idx)
        logits[idx] = model(ids, mask)
    labels = torch.tensor(examples["labels"], dtype=torch.long)
    loss = F.cross_entropy(logits, labels).item()
    accuracy = (logits.argmax(-1) == labels).float().mean().item()
    return loss, accuracy, logits


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", required=True, help="folder with ids.json and params.json; outputs go here")
    args = parser.parse_args()
    with open(os.path.join(args.work, "params.json")) as f:
        p = {**DEFAULTS, **json.load(f)}
    with open(os.path.join(args.work, "ids.json")) as f:
        data = json.load(f)

    torch.set_num_threads(p["threads"])
    torch.manual_seed(p["seed"])
    torch.use_deterministic_algorithms(True)
    num_labels = len(data["labels"])
    train, val = data["train"], data["val"]

    model = Classifier(p["vocab_size"], p["max_length"], num_labels, p["hidden"], p["layers"], p["heads"],
                       p["intermediate"], p["dropout"])
    params = sum(t.numel() for t in model.parameters())
    decay = [t for n, t in model.named_parameters() if t.dim() >= 2 and "norm" not in n]
    no_decay = [t for n, t in model.named_parameters() if not (t.dim() >= 2 and "norm" not in n)]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": p["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}], lr=p["lr"]
    )
    steps_per_epoch = math.ceil(len(train["ids"]) / p["batch_size"])
    total = steps_per_epoch * p["epochs"]
    warmup = max(1, int(total * p["warmup_ratio"]))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (total - s) / max(1, total - warmup))
    )
    print(f"train.py: torch {torch.__version__}, {params} parameters, {len(train['ids'])} train / "
          f"{len(val['ids'])} val examples, {p['epochs']} epochs x {steps_per_epoch} steps", flush=True)

    history, best, best_key, best_state, stale = [], None, None, None, 0
    started = time.time()
    for epoch in range(1, p["epochs"] + 1):
        t0 = time.time()
        model.train()
        generator = torch.Generator().manual_seed(p["seed"] * 1000 + epoch)
        total_loss, seen, correct = 0.0, 0, 0
        for idx in train_batches(train, p["batch_size"], generator):
            ids, mask, labels = make_batch(train, idx)
            logits = model(ids, mask)
            loss = F.cross_entropy(logits, labels, label_smoothing=p["label_smoothing"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            total_loss += loss.item() * len(idx)
            seen += len(idx)
            correct += (logits.argmax(-1) == labels).sum().item()
        train_seconds = time.time() - t0
        val_loss, val_acc, _ = evaluate(model, val)
        row = {
            "epoch": epoch,
            "train_loss": round(total_loss / seen, 6),
            "train_accuracy": round(correct / seen, 6),
            "val_loss": round(val_loss, 6),
            "val_accuracy": round(val_acc, 6),
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": round(time.time() - t0, 2),
            "train_seconds": round(train_seconds, 2),
        }
        history.append(row)
        # Best by val accuracy; a tie goes to the lower val loss (compared unrounded).
        improved = best_key is None or (val_acc, -val_loss) > best_key
        if improved:
            best, best_key = row, (val_acc, -val_loss)
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        stale = 0 if improved else stale + 1
        print(f"epoch {epoch}/{p['epochs']}: train loss {row['train_loss']:.4f} acc {row['train_accuracy']:.4f} | "
              f"val loss {val_loss:.4f} acc {val_acc:.4f}{' *' if improved else ''} | {row['seconds']:.1f} s/epoch",
              flush=True)
        with open(os.path.join(args.work, "history.json"), "w") as f:
            json.dump(history, f, indent=1)
        if p["patience"] and stale >= p["patience"]:
            print(f"no better val accuracy for {stale} epochs: stopping", flush=True)
            break
    seconds = time.time() - started

    # torch 1.13 warns about its own Constant nodes during export; harmless (the ORT check below is the test).
    warnings.filterwarnings("ignore", message="The shape inference of prim::Constant type is missing")
    model.load_state_dict(best_state)
    model.eval()
    onnx_path = os.path.join(args.work, "model.onnx")
    dummy = make_batch(val, [0, 1])
    torch.onnx.export(
        model,
        (dummy[0], dummy[1]),
        onnx_path,
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],
        dynamic_axes={
            "input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size"},
        },
        opset_version=14,
        do_constant_folding=True,
    )

    # A few val examples of different lengths, one at a time (no padding), for the onnxruntime check.
    by_length = sorted(range(len(val["ids"])), key=lambda i: (len(val["ids"][i]), i))
    picks = sorted({by_length[round(q * (len(by_length) - 1))] for q in (0, 0.2, 0.4, 0.6, 0.8, 1.0)})
    check = []
    with torch.no_grad():
        for i in picks:
            ids, mask, _ = make_batch(val, [i])
            check.append({"index": i, "logits": model(ids, mask)[0].tolist()})
    result = {
        "torch_version": torch.__version__,
        "parameters": params,
        "params": p,
        "history": history,
        "best_epoch": best["epoch"],
        "train_seconds": round(seconds, 1),
        "check": check,
    }
    with open(os.path.join(args.work, "result.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"best epoch {best['epoch']} (val accuracy {best['val_accuracy']:.4f}); trained in {seconds:.0f} s; "
          f"exported {onnx_path}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
