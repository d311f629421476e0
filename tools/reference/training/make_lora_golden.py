"""Dev-only generator of the LoRA-vs-peft golden files (the app and its tests never run Python).

A tiny random timm ViT (32 px, patch 8, dim 32, depth 2, 2 heads, GELU MLP of width 64, class
token, Linear head to 2 classes) gets peft LoRA (r 4, alpha 8, dropout 0, on qkv, proj, fc1, fc2);
LoRA on the blocks' linear layers only: peft's plain target list would also adapt timm's
patch_embed.proj, a Conv2d; the target is a regex to exclude it. One batch of 4 images goes through it with a mean cross-entropy loss, and one optimiser step is
taken on the trainable set (every LoRA A and B, and the head's weight and bias):

    tests/unit/training/golden/lora-base.{json,bin}   frozen base weights (timm names) + initial head
    tests/unit/training/golden/lora-step.{json,bin}   batch, LoRA A/B, loss, logits, gradients,
                                                      parameters after one AdamW and one Adam step

Both are golden bundles (golden_bundle.py), all tensors float32. lora-step tensor names:
    input.pixels [4, 3, 32, 32]   input.labels [4] (class indices as float32)
    base.logits [4, 2]            the timm model before LoRA; also what the LoRA model gives with B = 0
    init.<peft name>              every trainable tensor before the step (the values the step uses)
    step.logits [4, 2]  step.loss [1]
    grad.<peft name>              d loss / d tensor
    adamw.<peft name>             after one torch.optim.AdamW(lr 1e-3, betas (0.9, 0.999), eps 1e-8,
                                  weight_decay 0.01) step; the decay applies to every trainable tensor
    adam.<peft name>              after one torch.optim.Adam(lr 1e-3, default betas/eps, no decay) step
meta.trainable lists, per LoRA target, the timm module and the peft names of A [r, in] and B [out, r].

peft initialises B to zero, which makes d loss / d A zero and would let a wrong A gradient pass.
So after checking that the B = 0 model reproduces the base logits exactly, B is redrawn as small
non-zero noise (0.05 x N(0, 1)); every saved value comes from that model.

Run from the repository root:  python3 tools/reference/training/make_lora_golden.py
Needs torch, timm, peft and safetensors' dependencies (pip install --user torch timm peft).
"""

import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vit"))
sys.path.insert(0, HERE)
import torchvision_stub  # noqa: E402

torchvision_stub.install_if_needed()

import peft  # noqa: E402
import timm  # noqa: E402
from golden_bundle import write_bundle  # noqa: E402

OUT = os.path.join("tests", "unit", "training", "golden")
SEED = 5
BATCH = 4
CONFIG = {"imageSize": 32, "patchSize": 8, "dim": 32, "depth": 2, "heads": 2, "mlpRatio": 2, "mlp": "gelu", "layerNormEps": 1e-6, "classCount": 2}
LORA = {"r": 4, "alpha": 8, "dropout": 0.0, "targets": ["qkv", "proj", "fc1", "fc2"], "scope": "blocks.* only (not patch_embed.proj)"}
LR = 1e-3
WEIGHT_DECAY = 0.01


def randomize(model, generator):
    """As tools/reference/vit/make_golden.py: every parameter re-drawn so each block contributes."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            if parameter.ndim == 1 and name.endswith("weight"):
                parameter.copy_(1.0 + 0.2 * noise)
            elif parameter.ndim == 1:
                parameter.copy_(0.2 * noise)
            elif "token" in name or "pos" in name:
                parameter.copy_(noise)
            else:
                parameter.copy_(noise / parameter[0].numel() ** 0.5)


def base_model(generator):
    model = timm.create_model(
        "vit_tiny_patch16_224",
        pretrained=False,
        img_size=CONFIG["imageSize"],
        patch_size=CONFIG["patchSize"],
        embed_dim=CONFIG["dim"],
        depth=CONFIG["depth"],
        num_heads=CONFIG["heads"],
        mlp_ratio=CONFIG["mlpRatio"],
        num_classes=CONFIG["classCount"],
    )
    assert model.global_pool == "token" and model.num_prefix_tokens == 1
    randomize(model, generator)
    return model


def lora_model(model):
    # The plain list ["qkv", "proj", "fc1", "fc2"] also matches timm's patch_embed.proj (a Conv2d,
    # which peft would adapt too); the design adapts the blocks' linear layers only.
    targets = r"blocks\.\d+\.(attn\.(qkv|proj)|mlp\.(fc1|fc2))"
    config = peft.LoraConfig(r=LORA["r"], lora_alpha=LORA["alpha"], lora_dropout=LORA["dropout"], target_modules=targets, bias="none")
    lora = peft.get_peft_model(model, config)
    for parameter in lora.base_model.model.head.parameters():
        parameter.requires_grad_(True)
    return lora


def trainable_layout(lora):
    """Per LoRA target: its timm module name and the peft names of A and B."""
    prefix = "base_model.model."
    targets = []
    for name, _ in lora.named_parameters():
        if name.endswith("lora_A.default.weight"):
            module = name[len(prefix) : -len(".lora_A.default.weight")]
            targets.append({"module": module, "A": name, "B": name.replace("lora_A", "lora_B")})
    return targets


def adam_step(lora, initial, optimizer_class, **settings):
    with torch.no_grad():
        for name, parameter in lora.named_parameters():
            if parameter.requires_grad:
                parameter.copy_(initial[name])
    trainable = [p for p in lora.parameters() if p.requires_grad]
    optimizer = optimizer_class(trainable, lr=LR, **settings)
    optimizer.zero_grad()
    loss_of(lora).backward()
    optimizer.step()
    return {name: p.detach().clone() for name, p in lora.named_parameters() if p.requires_grad}


def batch():
    generator = torch.Generator().manual_seed(SEED + 100)
    pixels = torch.randn((BATCH, 3, CONFIG["imageSize"], CONFIG["imageSize"]), generator=generator)
    labels = torch.tensor([0, 1, 1, 0])
    return pixels, labels


def loss_of(lora):
    pixels, labels = batch()
    return torch.nn.functional.cross_entropy(lora(pixels), labels)


def main():
    os.makedirs(OUT, exist_ok=True)
    generator = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)  # peft draws A (Kaiming-uniform) from the global generator
    model = base_model(generator)
    model.train()  # no dropout or drop-path is configured, so train mode is deterministic
    pixels, labels = batch()
    with torch.no_grad():
        base_logits = model(pixels)
    base_weights = {name: ("float32", p.detach().numpy().copy()) for name, p in model.named_parameters()}

    lora = lora_model(model)
    with torch.no_grad():
        assert torch.equal(lora(pixels), base_logits), "with B = 0 the LoRA model must reproduce the base model"
        for name, parameter in lora.named_parameters():
            if "lora_B" in name:
                parameter.copy_(0.05 * torch.randn(parameter.shape, generator=generator))
    layout = trainable_layout(lora)
    initial = {name: p.detach().clone() for name, p in lora.named_parameters() if p.requires_grad}
    assert len(initial) == 2 * len(layout) + 2 and len(layout) == 4 * CONFIG["depth"]

    lora.zero_grad()
    logits = lora(pixels)
    loss = torch.nn.functional.cross_entropy(logits, labels)
    loss.backward()
    gradients = {name: p.grad.detach().clone() for name, p in lora.named_parameters() if p.requires_grad}
    assert all(g.abs().max() > 0 for g in gradients.values()), "every trainable tensor must get a gradient"

    after_adamw = adam_step(lora, initial, torch.optim.AdamW, weight_decay=WEIGHT_DECAY)
    after_adam = adam_step(lora, initial, torch.optim.Adam)

    step = {"input.pixels": ("float32", pixels), "input.labels": ("float32", labels), "base.logits": ("float32", base_logits)}
    step.update({f"init.{name}": ("float32", value) for name, value in initial.items()})
    step.update({"step.logits": ("float32", logits.detach()), "step.loss": ("float32", loss.detach().reshape(1))})
    step.update({f"grad.{name}": ("float32", value) for name, value in gradients.items()})
    step.update({f"adamw.{name}": ("float32", value) for name, value in after_adamw.items()})
    step.update({f"adam.{name}": ("float32", value) for name, value in after_adam.items()})
    versions = f"torch {torch.__version__}, timm {timm.__version__}, peft {peft.__version__}"
    write_bundle(os.path.join(OUT, "lora-base"), base_weights, {"config": CONFIG, "generator": versions})
    write_bundle(
        os.path.join(OUT, "lora-step"),
        {name: (dtype, value.detach().numpy()) for name, (dtype, value) in step.items()},
        {
            "config": CONFIG,
            "lora": {**LORA, "scaling": LORA["alpha"] / LORA["r"], "bInit": "0.05 x N(0, 1), not peft's zeros (see generator)"},
            "trainable": layout,
            "head": {"weight": "base_model.model.head.weight", "bias": "base_model.model.head.bias", "pooling": "class token after the final norm"},
            "loss": "mean softmax cross-entropy over the batch",
            "adamw": {"lr": LR, "betas": [0.9, 0.999], "eps": 1e-8, "weightDecay": WEIGHT_DECAY, "decayApplies": "every trainable tensor"},
            "adam": {"lr": LR, "betas": [0.9, 0.999], "eps": 1e-8, "weightDecay": 0},
            "generator": versions,
        },
    )


if __name__ == "__main__":
    main()
