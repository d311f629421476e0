"""Dev-only: writes a golden bundle, the format the training tests read (goldenBundle.ts).

A bundle is two files side by side:

    <name>.json   {"meta": {...}, "tensors": [{"name", "dtype", "shape", "offset", "length"}, ...]}
    <name>.bin    the tensors back to back, little-endian, C order, no padding

`dtype` is "float32" or "float64"; `offset` is in bytes from the start of the .bin and `length`
in elements. Tensors are listed in the order they were given.
"""

import json
import os

import numpy as np

DTYPES = {"float32": "<f4", "float64": "<f8"}


def write_bundle(path_without_extension, tensors, meta):
    entries = []
    offset = 0
    with open(path_without_extension + ".bin", "wb") as binary:
        for name, (dtype, values) in tensors.items():
            array = np.ascontiguousarray(np.asarray(values, dtype=DTYPES[dtype]))
            binary.write(array.tobytes(order="C"))
            entries.append({"name": name, "dtype": dtype, "shape": list(array.shape), "offset": offset, "length": int(array.size)})
            offset += array.nbytes
    with open(path_without_extension + ".json", "w") as manifest:
        json.dump({"meta": meta, "tensors": entries}, manifest, indent=1)
        manifest.write("\n")
    for extension in (".json", ".bin"):
        size = os.path.getsize(path_without_extension + extension)
        assert size < 200_000, f"{path_without_extension}{extension} is {size} bytes"
        print(f"{path_without_extension}{extension}: {size} bytes")
