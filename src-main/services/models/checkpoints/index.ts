export { OnnxModelFile } from './OnnxModelFile';
export type { OnnxDim, OnnxNodeInfo, OnnxTensorEntry, OnnxValueInfo, SkippedTensor } from './OnnxModelFile';
export { PYTORCH_INDEX_NAME, PYTORCH_SINGLE_NAME, PyTorchCheckpoint, PyTorchFile } from './PyTorchCheckpoint';
export type { PyTorchOpenOptions } from './PyTorchCheckpoint';
export { STATE_DICT_WRAPPER_KEYS } from './stateDict';
export { readAsFloat32 } from './readAsFloat32';
