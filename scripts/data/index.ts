/**
 * Labelled text data: the built-in datasets (spam, langid), user files (JSONL/CSV), the seeded stratified
 * split and the JSONL reader that build and eval use.
 */
export type { LabelledExample, FieldNames } from './example.ts'
export { toExample } from './example.ts'
export { readLabelledJsonl, parseLabelledJsonl, formatJsonl } from './jsonl.ts'
export { readUserFile, parseLabelledCsv, formatOf } from './user-file.ts'
export {
  stratifiedSplit, parseSplit, parseSeed, allocate, minimumPerLabel,
  DEFAULT_SEED, DEFAULT_SPLIT, SPLIT_NAMES,
} from './split.ts'
export type { SplitName, Splits, SplitFractions } from './split.ts'
export { mulberry32, shuffled } from './random.ts'
export type { Random } from './random.ts'
export { writeDataset, sha256 } from './dataset.ts'
export type { DatasetInfo } from './dataset.ts'
export { loadSpam } from './spam.ts'
export type { PreparedSource, SourcePackage } from './source-package.ts'
export { loadLangid, LANGUAGES } from './langid.ts'
export { htmlToText, decodeEntities } from './html.ts'
export { mailToText } from './mail.ts'
export { cleanText, dedupe, MAX_TEXT_CHARS } from './text.ts'
