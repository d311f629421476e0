"""Dev-only generator of the ViT golden files (the app and its tests never run Python).

Builds tiny random-weight ViTs with timm and transformers, saves each as a checkpoint folder the
way those libraries save them (config.json + model.safetensors, real tensor names and layouts)
and records an input and the library's own output beside it:

    tests/unit/models/architecture/golden/<case>/config.json
    tests/unit/models/architecture/golden/<case>/model.safetensors    (timm-gelu also pytorch_model.bin)
    tests/unit/models/architecture/golden/<case>/golden.safetensors   pixels_<S>, tokens_<S>, embedding_<S>
    tests/unit/models/architecture/golden/<case>/golden.json          what the test needs to know
    tests/unit/models/architecture/golden/resample.safetensors        torch bicubic resampling cases

Every parameter is re-drawn at random (library inits leave layer scales at 1e-5, which would hide
a wrong block), so each block really contributes. Sizes other than the native one exercise the
position-embedding resampling of each library.

Run from the repository root:  python3 tools/reference/vit/make_golden.py
Needs torch, timm and transformers (the local pip index has them: pip install --user torch timm
transformers safetensors).
"""

import json
import os
import shutil
import sys

import torch
import transformers

# transformers decides at import whether torchvision is there: it must see the truth, and the
# stub (for timm only) comes after.
transformers.ViTModel, transformers.Dinov2Model, transformers.Dinov2WithRegistersModel  # noqa: B018

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torchvision_stub  # noqa: E402

torchvision_stub.install_if_needed()

import timm  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from timm.layers import SwiGLUPacked  # noqa: E402
from timm.models._hub import save_for_hf  # noqa: E402

OUT = os.path.join("tests", "unit", "models", "architecture", "golden")
BATCH = 2


def randomize(model, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            leaf = name.split(".")[-1]
            if leaf in ("gamma", "lambda1"):
                parameter.copy_(0.5 + 0.3 * noise)
            elif parameter.ndim == 1 and leaf == "weight":
                parameter.copy_(1.0 + 0.2 * noise)
            elif parameter.ndim == 1:
                parameter.copy_(0.2 * noise)
            elif "token" in name or "pos" in name:
                parameter.copy_(noise)
            else:
                fan_in = parameter[0].numel()
                parameter.copy_(noise / fan_in**0.5)
    model.eval()


def pixels(size, seed):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn((BATCH, 3, size, size), generator=generator)


def embedding_of(tokens, rule, prefix_tokens):
    if rule == "cls":
        return tokens[:, 0]
    if rule == "cls-mean-patches":
        return torch.cat([tokens[:, 0], tokens[:, prefix_tokens:].mean(1)], dim=-1)
    raise ValueError(rule)


def write_golden(folder, runs, meta):
    tensors = {}
    for size, (x, tokens, embedding) in runs.items():
        tensors[f"pixels_{size}"] = x.contiguous()
        tensors[f"tokens_{size}"] = tokens.contiguous()
        tensors[f"embedding_{size}"] = embedding.contiguous()
    save_file(tensors, os.path.join(folder, "golden.safetensors"))
    meta = dict(meta, sizes=sorted(runs), batch=BATCH, generator=f"torch {torch.__version__}, timm {timm.__version__}, transformers {transformers.__version__}")
    with open(os.path.join(folder, "golden.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


def timm_case(name, seed, architecture, model_args, extra_args, sizes, rule, description):
    """extra_args are what a model card passes in code and the hub config cannot hold (callables)."""
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    model = timm.create_model(architecture, pretrained=False, num_classes=0, **model_args, **extra_args)
    randomize(model, seed)
    # Both files, as hub folders often carry: the .bin (torch.save zip + pickle) holds the same weights.
    save_for_hf(model, folder, model_args=model_args, safe_serialization="both" if name == "timm-gelu" else True)
    runs = {}
    for size in sizes:
        x = pixels(size, seed + size)
        with torch.no_grad():
            tokens = model.forward_features(x)
        runs[size] = (x, tokens, embedding_of(tokens, rule, model.num_prefix_tokens))
    write_golden(folder, runs, {"description": description, "embedding": rule, "family": "timm", "prefixTokens": model.num_prefix_tokens})


def hf_case(name, seed, model, sizes, rule, description, interpolate_flag=False):
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    randomize(model, seed)
    model.save_pretrained(folder)
    prefix = 1 + getattr(model.config, "num_register_tokens", 0)
    runs = {}
    for size in sizes:
        x = pixels(size, seed + size)
        kwargs = {"interpolate_pos_encoding": True} if interpolate_flag and size != model.config.image_size else {}
        with torch.no_grad():
            tokens = model(pixel_values=x, **kwargs).last_hidden_state
        runs[size] = (x, tokens, embedding_of(tokens, rule, prefix))
    write_golden(folder, runs, {"description": description, "embedding": rule, "family": type(model).__name__, "prefixTokens": prefix})


def resample_case():
    """torch's bicubic interpolate of a 4x4 grid (3 channels) to 7x7 and 3x3, with and without antialias."""
    generator = torch.Generator().manual_seed(7)
    grid = torch.randn((1, 3, 4, 4), generator=generator)
    tensors = {"grid_4": grid}
    for size in (7, 3):
        for antialias in (True, False):
            out = torch.nn.functional.interpolate(grid, size=(size, size), mode="bicubic", align_corners=False, antialias=antialias)
            tensors[f"grid_{size}_{'aa' if antialias else 'plain'}"] = out.contiguous()
    save_file(tensors, os.path.join(OUT, "resample.safetensors"))


def main():
    torch.set_grad_enabled(False)
    resample_case()
    tiny = {"embed_dim": 32, "depth": 2, "num_heads": 2, "img_size": 32, "dynamic_img_size": True}
    timm_case(
        "timm-gelu",
        1,
        "vit_tiny_patch16_224",
        tiny,
        {},
        [32, 48],
        "cls",
        "timm ViT, GELU Mlp, no layer scale; 48 px resamples the 2x2 position grid to 3x3 (bicubic, antialias)",
    )
    timm_case(
        "timm-swiglu-ls-reg4",
        2,
        "vit_huge_patch14_224",
        {**tiny, "patch_size": 16, "init_values": 1e-5, "reg_tokens": 4, "mlp_ratio": 5.3375, "global_pool": ""},
        {"mlp_layer": SwiGLUPacked, "act_layer": torch.nn.SiLU},
        [32, 48],
        "cls-mean-patches",
        "Virchow2-shaped: SwiGLUPacked (given in code, as the card does), layer scale, 4 registers, pos_embed over class+registers+patches",
    )
    timm_case(
        "timm-nec-reg8",
        3,
        "vit_giant_patch14_224",
        {**tiny, "img_size": 48, "patch_size": 16, "init_values": 1e-5, "reg_tokens": 8, "no_embed_class": True, "mlp_ratio": 2.66667 * 2},
        {"mlp_layer": SwiGLUPacked, "act_layer": torch.nn.SiLU},
        [48, 32],
        "cls",
        "UNI2-h-shaped: no_embed_class, 8 registers, SwiGLUPacked, layer scale; 32 px downsamples the 3x3 grid to 2x2",
    )
    hf_case(
        "hf-vit",
        4,
        transformers.ViTModel(
            transformers.ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, image_size=32, patch_size=16),
            add_pooling_layer=True,
        ),
        [32, 48],
        "cls",
        "HF ViTModel (Phikon naming), layer_norm_eps 1e-12, pooler weights present and unused; 48 px with interpolate_pos_encoding",
        interpolate_flag=True,
    )
    hf_case(
        "hf-dinov2-swiglu",
        5,
        transformers.Dinov2Model(
            transformers.Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=16, use_swiglu_ffn=True)
        ),
        [32, 48],
        "cls-mean-patches",
        "HF Dinov2Model with SwiGLU (weights_in/weights_out) and layer_scale lambda1; 48 px resamples without antialias",
    )
    hf_case(
        "hf-dinov2-reg4",
        6,
        transformers.Dinov2WithRegistersModel(
            transformers.Dinov2WithRegistersConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=16, num_register_tokens=4)
        ),
        [32, 48],
        "cls",
        "HF Dinov2WithRegistersModel, GELU, 4 register tokens inserted after the position add; 48 px resamples with antialias",
    )
    for case in sorted(os.listdir(OUT)):
        if not os.path.isdir(os.path.join(OUT, case)):
            continue
        for file in sorted(os.listdir(os.path.join(OUT, case))):
            size = os.path.getsize(os.path.join(OUT, case, file))
            assert size < 300_000, f"{case}/{file} is {size} bytes"
            print(f"{case}/{file}: {size} bytes")


if __name__ == "__main__":
    main()
