import type { FoundationModelPreset } from './presets';
import { FOUNDATION_MODEL_PRESETS } from './presets';
import type { CheckpointLayout, VitArchitecture } from './VitArchitecture';

/**
 * Which known model a checkpoint is:
 * - 'matched': its name (hub id, folder) and architecture agree with one preset, or only the
 *   architecture does and no other preset of the same layout shares it;
 * - 'ambiguous': several presets share the architecture and nothing names one (kaiko ViT-S/16
 *   and Lunit ViT-S/16; H-optimus-0 and -1): the user picks;
 * - 'name-mismatch': the name says a known model but the tensors disagree (fine-tuned or
 *   mislabelled): its settings are not applied silently;
 * - 'unknown': a ViT that works from its own config.
 */
export type PresetRecognition =
  | { readonly kind: 'matched'; readonly preset: FoundationModelPreset; readonly by: 'name-and-architecture' | 'architecture'; readonly alternatives: readonly string[] }
  | { readonly kind: 'ambiguous'; readonly candidates: readonly FoundationModelPreset[] }
  | { readonly kind: 'name-mismatch'; readonly preset: FoundationModelPreset; readonly differences: readonly string[] }
  | { readonly kind: 'unknown' };

const COMPARED = ['patchSize', 'inChannels', 'dim', 'depth', 'heads', 'mlp', 'mlpWidth', 'layerScale', 'registerTokens', 'noEmbedClass'] as const;

/** Fields that tell architectures apart; input size and eps do not (both are settings). */
export function architectureDifferences(expected: VitArchitecture, actual: VitArchitecture): string[] {
  return COMPARED.filter((key) => expected[key] !== actual[key]).map((key) => `${key}: ${String(expected[key])} expected, ${String(actual[key])} found`);
}

/** "models--MahmoodLab--uni" (HF cache folders) reads as "mahmoodlab/uni". */
function normaliseHint(hint: string): string {
  return hint.toLowerCase().replaceAll('\\', '/').replaceAll('models--', '').replaceAll('--', '/');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function presetsNamedBy(hints: readonly string[], presets: readonly FoundationModelPreset[] = FOUNDATION_MODEL_PRESETS): FoundationModelPreset[] {
  const normalised = hints.map(normaliseHint);
  return presets.filter((preset) =>
    preset.hubIds.some((id) => {
      const pattern = new RegExp(`(^|[^a-z0-9_.-])${escapeRegExp(id.toLowerCase())}(?![a-z0-9_.-])`);
      return normalised.some((hint) => pattern.test(hint));
    }),
  );
}

export function recognisePreset(
  architecture: VitArchitecture,
  layout: CheckpointLayout,
  nameHints: readonly string[],
  presets: readonly FoundationModelPreset[] = FOUNDATION_MODEL_PRESETS,
): PresetRecognition {
  const fitting = presets.filter((preset) => architectureDifferences(preset.architecture, architecture).length === 0);
  const named = presetsNamedBy(nameHints, presets);
  const namedAndFitting = named.filter((preset) => fitting.includes(preset));
  if (namedAndFitting.length > 0) {
    return { kind: 'matched', preset: namedAndFitting[0]!, by: 'name-and-architecture', alternatives: namedAndFitting.slice(1).map((preset) => preset.id) };
  }
  if (named.length > 0) return { kind: 'name-mismatch', preset: named[0]!, differences: architectureDifferences(named[0]!.architecture, architecture) };
  const sameLayout = fitting.filter((preset) => preset.layout === layout);
  if (sameLayout.length === 1) {
    return { kind: 'matched', preset: sameLayout[0]!, by: 'architecture', alternatives: fitting.filter((preset) => preset !== sameLayout[0]).map((preset) => preset.id) };
  }
  if (sameLayout.length > 1) return { kind: 'ambiguous', candidates: sameLayout };
  if (fitting.length > 0) return { kind: 'ambiguous', candidates: fitting };
  return { kind: 'unknown' };
}
