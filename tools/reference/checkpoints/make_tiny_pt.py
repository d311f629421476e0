"""Dev-only: writes the PyTorch golden checkpoints read by tests/unit/models/checkpoints.

Run from the repository root with a Python that has torch:
    python tools/reference/checkpoints/make_tiny_pt.py
The app and its tests never need Python; the outputs are committed.
"""
import json
from collections import OrderedDict
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parents[3] / "tests" / "unit" / "models" / "checkpoints" / "golden"


def expected(tensor):
    values = tensor.detach().contiguous()
    if values.is_floating_point():
        values = values.float()
    flat = values.reshape(-1).tolist()
    return {
        "dtype": str(tensor.dtype).removeprefix("torch."),
        "shape": list(tensor.shape),
        "stride": list(tensor.stride()),
        "storage_offset": tensor.storage_offset(),
        "contiguous": tensor.is_contiguous(),
        # int64 as strings so that JSON keeps every digit.
        "values": [str(v) for v in flat] if tensor.dtype == torch.int64 else flat,
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(4)
    base = torch.randn(3, 4, generator=generator)
    model = OrderedDict()
    model["f32"] = base
    model["f16"] = torch.randn(5, generator=generator).half()
    model["bf16"] = torch.randn(2, 3, generator=generator).to(torch.bfloat16)
    model["i64"] = torch.tensor([0, -1, 2**40, -(2**62)], dtype=torch.int64)
    # Views of base's storage, saved as views: torch writes the storage once.
    model["transposed"] = base.t()
    model["strided"] = base[:, 1::2]
    model["offset_row"] = base[2]
    model["scalar"] = torch.tensor(3.5)
    model["param"] = torch.nn.Parameter(torch.randn(2, 2, generator=generator))
    model["blocks"] = {"0": {"weight": torch.randn(2, generator=generator)}}
    checkpoint = {"model": model, "epoch": 7, "args": {"lr": 0.1, "name": "tiny"}}
    torch.save(checkpoint, OUT / "tiny.bin")

    flat = {}
    for key, value in model.items():
        if isinstance(value, dict):
            flat["blocks.0.weight"] = expected(value["0"]["weight"])
        else:
            flat[key] = expected(value)
    (OUT / "tiny.json").write_text(json.dumps({"state_path": ["model"], "tensors": flat}, indent=1) + "\n")

    # A module's state_dict: an OrderedDict with a _metadata attribute (pickled with BUILD).
    torch.manual_seed(5)
    module = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    state = module.state_dict()
    torch.save(state, OUT / "module.bin")
    (OUT / "module.json").write_text(json.dumps({"state_path": [], "tensors": {k: expected(v) for k, v in state.items()}}, indent=1) + "\n")

    torch.save({"w": torch.zeros(2)}, OUT / "legacy.bin", _use_new_zipfile_serialization=False)


if __name__ == "__main__":
    main()
