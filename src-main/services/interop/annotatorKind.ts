import type { AnnotatorKind } from './AnnotationBundle';

/**
 * SlideRunner's Persons table and CSV files do not say whether an annotator is a person or a
 * model, yet detectors often label alongside pathologists (the MIDOG database has "RetinaNet").
 * This guesses from the name; the import preview lets the user correct it.
 */
const modelNamePattern =
  /retina-?net|yolo|r-?cnn|\bfcos\b|\bdetr\b|u-?net\b|resnet|efficientnet|\bvit\b|\bmodel\b|\bnetwork\b|detector|classifier|\bai\b|\bcnn\b|linear probe/i;

export function guessAnnotatorKind(name: string): AnnotatorKind {
  return modelNamePattern.test(name) ? 'model' : 'person';
}
