import type { Migration } from './Migration';
import { migration001 } from './001-project-and-slides';
import { migration002 } from './002-slide-tags-and-reader-choice';
import { migration003 } from './003-annotations';
import { migration004 } from './004-jobs';
import { migration005 } from './005-screening';
import { migration006 } from './006-viewport-index';
import { migration007 } from './007-models';
import { migration008 } from './008-embeddings';
import { migration009 } from './009-training';
import { migration010 } from './010-studies';

export const migrations: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005, migration006, migration007, migration008, migration009, migration010];

export const LATEST_SCHEMA_VERSION = migrations.at(-1)?.version ?? 0;
