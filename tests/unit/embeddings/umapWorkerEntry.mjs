// The UMAP worker's TypeScript for tests, through tsx (the built app runs the bundled file).
import { register } from 'tsx/esm/api';

register();
await import('../../../src-main/services/embeddings/umapWorker.ts');
