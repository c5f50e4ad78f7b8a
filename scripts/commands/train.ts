import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Tokenizer } from '@huggingface/tokenizers'
import * as ort from 'onnxruntime-node'
import { ModelRunner } from '../../src/model/runner.ts'
import { nodeOrt } from '../../src/node/index.ts'
import { addKeyOutput } from '../export/index.ts'
import { accuracy, macroF1 } from '../eval/metrics.ts'
import { argmax } from '../../src/resmem/combine.ts'
import { CliError } from '../cli/errors.ts'
import { progress } from '../cli/progress.ts'
import { readLabelledJsonl, SPLIT_NAMES, type DatasetInfo, type LabelledExample, type SplitName } from '../data/index.ts'
import { findTorchPython, PYTHON_ENV } from '../train/python.ts'
import { encodeTruncated, trainWordPiece } from '../train/wordpiece.ts'

const TRAIN_PY = join(dirname(fileURLToPath(import.meta.url)), '..', 'train', 'train.py')
/** Largest |torch - onnxruntime| logit difference accepted for the exported graph. */
const ORT_TOLERANCE = 1e-4

const HELP = `usage: resmem train --data DIR --out DIR [options]

Trains a small BERT-style text classifier from scratch (torch, CPU) on a prepared dataset
(DIR/train.jsonl, val.jsonl, test.jsonl as written by \`resmem prepare\`) and writes the Hugging Face layout
that transformers.js loads from a local folder: config.json, tokenizer.json, tokenizer_config.json,
onnx/model.onnx, plus training.json (data hashes, hyperparameters, per-epoch history, val metrics of
the exported model). The epoch with the best val accuracy is kept. Same data + seed -> same model.

  --data DIR           prepared dataset folder (required)
  --out DIR            output model folder (required; files above are overwritten, others kept)
  --epochs N           training epochs (default 10)
  --max-length L       tokens per text, [CLS] and [SEP] included; longer texts keep their first L (default 256)
  --vocab-size V       WordPiece vocabulary size, learned from the train split (default 8000)
  --hidden H           model width (default 128)
  --layers N           transformer layers (default 2)
  --heads N            attention heads (default 4)
  --intermediate N     feed-forward width (default 4 x hidden)
  --lr X               peak AdamW learning rate, linear warmup then linear decay (default 1e-3)
  --batch-size N       (default 32)
  --dropout X          (default 0.1)
  --label-smoothing X  (default 0)
  --patience N         stop after N epochs without a better val accuracy (default 0: run all epochs)
  --seed N             (default 42)
  --work DIR           intermediate files: ids, logs, the raw export (default artifacts/train/<out name>)

Needs a python that imports torch and onnx: the first of $${PYTHON_ENV}, python3, /usr/bin/python3 and python
that does; when none does, it prints the commands that install them.`

export interface TrainOptions {
  data: string
  out: string
  work: string
  epochs: number
  maxLength: number
  vocabSize: number
  hidden: number
  layers: number
  heads: number
  intermediate: number
  lr: number
  batchSize: number
  dropout: number
  labelSmoothing: number
  patience: number
  seed: number
}

interface EpochRow {
  epoch: number
  train_loss: number
  train_accuracy: number
  val_loss: number
  val_accuracy: number
  seconds: number
}

interface TrainPyResult {
  torch_version: string
  parameters: number
  history: EpochRow[]
  best_epoch: number
  train_seconds: number
  check: Array<{ index: number; logits: number[] }>
}

export interface Metrics {
  accuracy: number
  macro_f1: number
  examples: number
}

function parseNumber(flag: string, value: string | undefined, fallback: number, { integer = false, min = 0 } = {}): number {
  if (value === undefined) return fallback
  const x = Number(value)
  if (!Number.isFinite(x) || (integer && !Number.isInteger(x)) || x < min) {
    throw new CliError(`--${flag}: expected ${integer ? 'an integer' : 'a number'} >= ${min}, got "${value}"`)
  }
  return x
}

function sha256(content: Uint8Array | string): string {
  return createHash('sha256').update(content).digest('hex')
}

/** Logits of one encoded text through the library's model runner (what build, eval and every runtime use). */
async function logitsOf(runner: ModelRunner, ids: number[]): Promise<Float32Array> {
  const batch = { batch: 1, length: ids.length, inputIds: BigInt64Array.from(ids, BigInt), attentionMask: new BigInt64Array(ids.length).fill(1n), truncated: [false] }
  return (await runner.run(batch)).logits
}

function runPython(python: string, args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, args, { stdio: 'inherit' })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (code === 0) resolvePromise()
      else reject(new CliError(`train.py failed (${signal ?? `exit ${code}`})`, 1))
    })
  })
}

/** Tokenizer -> ids -> train.py -> onnxruntime check and metrics -> Hugging Face folder. */
export async function train(o: TrainOptions): Promise<void> {
  const started = performance.now()
  const python = findTorchPython()
  console.log(`python: ${python.command} (torch ${python.torch}, onnx ${python.onnx})`)

  const splits = {} as Record<SplitName, LabelledExample[]>
  const dataSha256 = {} as Record<SplitName, string>
  for (const name of SPLIT_NAMES) {
    const file = join(o.data, `${name}.jsonl`)
    if (!existsSync(file)) throw new CliError(`${file}: missing (run \`resmem prepare\` first)`)
    dataSha256[name] = sha256(await readFile(file))
    splits[name] = await readLabelledJsonl(file)
  }
  const infoFile = join(o.data, 'info.json')
  const info = existsSync(infoFile) ? (JSON.parse(await readFile(infoFile, 'utf8')) as DatasetInfo) : undefined
  for (const name of SPLIT_NAMES) {
    if (info?.sha256?.[name] && info.sha256[name] !== dataSha256[name]) {
      console.warn(`warning: ${o.data}/${name}.jsonl differs from the sha256 in info.json (edited after prepare?)`)
    }
  }
  const labels = info?.labels ?? [...new Set(splits.train.map((e) => e.label))].sort()
  const labelId = new Map(labels.map((l, i) => [l, i]))
  for (const name of SPLIT_NAMES) {
    const unknown = splits[name].find((e) => !labelId.has(e.label))
    if (unknown) throw new CliError(`${o.data}/${name}.jsonl: label "${unknown.label}" is not among the labels ${labels.join(', ')}`)
  }
  if (labels.length < 2) throw new CliError(`${o.data}: a classifier needs at least two labels`)

  let t = performance.now()
  const { tokenizerJson, tokenizerConfig } = trainWordPiece(splits.train.map((e) => e.text), {
    vocabSize: o.vocabSize,
    modelMaxLength: o.maxLength,
  })
  const vocabSize = Object.keys((tokenizerJson.model as { vocab: object }).vocab).length
  const tokenizerSeconds = (performance.now() - t) / 1000
  console.log(`tokenizer: ${vocabSize} WordPiece tokens learned from ${splits.train.length} texts in ${tokenizerSeconds.toFixed(1)} s`)

  // Tokenize through the runtime's tokenizer class, loaded from the very JSON that ships.
  const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig)
  const ids = {} as Record<SplitName, { ids: number[][]; labels: number[] }>
  const truncatedShare = {} as Record<SplitName, number>
  const unkShare = {} as Record<SplitName, number>
  for (const name of SPLIT_NAMES) {
    const bar = progress(`tokenize ${name}`, splits[name].length, 'texts')
    const rows: number[][] = []
    let truncated = 0, unk = 0, tokens = 0
    for (const e of splits[name]) {
      const enc = encodeTruncated(tokenizer, e.text, o.maxLength)
      rows.push(enc.ids)
      if (enc.truncated) truncated++
      for (const id of enc.ids) if (id === 1) unk++
      tokens += enc.ids.length
      bar.increment(1)
    }
    bar.stop()
    ids[name] = { ids: rows, labels: splits[name].map((e) => labelId.get(e.label)!) }
    truncatedShare[name] = truncated / rows.length
    unkShare[name] = unk / tokens
  }
  console.log(`tokens: ${(100 * truncatedShare.train).toFixed(1)}% of train texts cut to ${o.maxLength}; [UNK] ${(100 * unkShare.train).toFixed(2)}% of train tokens`)

  await mkdir(o.work, { recursive: true })
  await writeFile(join(o.work, 'ids.json'), JSON.stringify({ labels, ...ids }))
  const params = {
    seed: o.seed,
    epochs: o.epochs,
    batch_size: o.batchSize,
    lr: o.lr,
    weight_decay: 0.01,
    warmup_ratio: 0.06,
    label_smoothing: o.labelSmoothing,
    dropout: o.dropout,
    hidden: o.hidden,
    layers: o.layers,
    heads: o.heads,
    intermediate: o.intermediate,
    max_length: o.maxLength,
    vocab_size: vocabSize,
    threads: 2,
    patience: o.patience,
  }
  await writeFile(join(o.work, 'params.json'), JSON.stringify(params, null, 1))

  t = performance.now()
  await runPython(python.command, [TRAIN_PY, '--work', o.work])
  const result = JSON.parse(await readFile(join(o.work, 'result.json'), 'utf8')) as TrainPyResult

  // The exported graph must compute what torch computed.
  const onnxFile = join(o.work, 'model.onnx')
  const runner = await ModelRunner.create(nodeOrt, addKeyOutput(new Uint8Array(await readFile(onnxFile)), 'penultimate').bytes, { intraOpNumThreads: 2, interOpNumThreads: 1 })
  let maxDiff = 0
  for (const c of result.check) {
    const logits = await logitsOf(runner, ids.val.ids[c.index])
    logits.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x - c.logits[i]))))
  }
  if (!(maxDiff <= ORT_TOLERANCE)) throw new CliError(`onnxruntime-node and torch disagree on the exported model: max |logit diff| ${maxDiff} > ${ORT_TOLERANCE}`, 1)
  console.log(`onnx check: onnxruntime-node matches torch on ${result.check.length} val texts (max |diff| ${maxDiff.toExponential(2)})`)

  // Val only: the test split is read once, by \`resmem eval\`, for the reported table.
  const metrics = {} as Record<'val', Metrics>
  for (const name of ['val'] as const) {
    const bar = progress(`evaluate ${name}`, ids[name].ids.length, 'texts')
    const predicted: number[] = []
    for (const row of ids[name].ids) {
      predicted.push(argmax(await logitsOf(runner, row)))
      bar.increment(1)
    }
    bar.stop()
    metrics[name] = { accuracy: accuracy(predicted, ids[name].labels), macro_f1: macroF1(predicted, ids[name].labels, labels.length), examples: predicted.length }
  }
  await runner.session.release?.()

  await mkdir(join(o.out, 'onnx'), { recursive: true })
  await copyFile(onnxFile, join(o.out, 'onnx', 'model.onnx'))
  const json = (x: unknown) => JSON.stringify(x, null, 2) + '\n'
  const config = {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    problem_type: 'single_label_classification',
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    vocab_size: vocabSize,
    hidden_size: o.hidden,
    num_hidden_layers: o.layers,
    num_attention_heads: o.heads,
    intermediate_size: o.intermediate,
    hidden_act: 'gelu',
    max_position_embeddings: o.maxLength,
    layer_norm_eps: 1e-12,
    hidden_dropout_prob: o.dropout,
    attention_probs_dropout_prob: o.dropout,
    pad_token_id: 0,
    resmem: {
      // Not Hugging Face's BERT: tells a reader what the ONNX graph computes before `classifier`.
      layer_norm: 'pre-LN layers, then a final LayerNorm',
      pooling: 'masked mean over tokens (attention_mask), [CLS] and [SEP] included',
      pooler: 'dense + tanh',
      embedding: 'the pooler output, input of the final classifier Linear (the ResMem key)',
      embedding_size: o.hidden,
      truncation: 'encode with [CLS] ... [SEP], keep the first max_position_embeddings ids',
    },
  }
  await writeFile(join(o.out, 'config.json'), json(config))
  await writeFile(join(o.out, 'tokenizer.json'), json(tokenizerJson))
  await writeFile(join(o.out, 'tokenizer_config.json'), json(tokenizerConfig))
  const history = result.history
  const training = {
    seed: o.seed,
    data: {
      dir: o.data,
      dataset: info?.dataset ?? basename(resolve(o.data)),
      source: info?.source,
      sha256: dataSha256,
      examples: Object.fromEntries(SPLIT_NAMES.map((s) => [s, splits[s].length])),
      truncated_share: truncatedShare,
      unk_share: unkShare,
    },
    hyperparameters: params,
    parameters: result.parameters,
    best_epoch: result.best_epoch,
    history,
    val: metrics.val,
    onnx_check: { examples: result.check.length, max_abs_diff: maxDiff },
    torch_version: result.torch_version,
    onnxruntime_node_version: ort.env.versions.node ?? ort.env.versions.common,
    seconds: {
      tokenizer: Number(tokenizerSeconds.toFixed(1)),
      training: result.train_seconds,
      total: Number(((performance.now() - started) / 1000).toFixed(1)),
    },
    sha256: {
      'onnx/model.onnx': sha256(await readFile(onnxFile)),
      'tokenizer.json': sha256(json(tokenizerJson)),
    },
  }
  await writeFile(join(o.out, 'training.json'), json(training))
  const best = history.find((h) => h.epoch === result.best_epoch)!
  console.log(`best epoch ${result.best_epoch}/${history.length}: train loss ${best.train_loss.toFixed(4)}, val accuracy ${best.val_accuracy.toFixed(4)}`)
  console.log(`exported model: val accuracy ${metrics.val.accuracy.toFixed(4)} macro-F1 ${metrics.val.macro_f1.toFixed(4)} (test: \`resmem eval\`)`)
  console.log(`wrote ${o.out}/ (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx, training.json) in ${training.seconds.total.toFixed(0)} s`)
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      work: { type: 'string' },
      epochs: { type: 'string' },
      'max-length': { type: 'string' },
      'vocab-size': { type: 'string' },
      hidden: { type: 'string' },
      layers: { type: 'string' },
      heads: { type: 'string' },
      intermediate: { type: 'string' },
      lr: { type: 'string' },
      'batch-size': { type: 'string' },
      dropout: { type: 'string' },
      'label-smoothing': { type: 'string' },
      patience: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(HELP)
    return
  }
  if (!values.data || !values.out) throw new CliError(`--data and --out are required\n\n${HELP}`)
  const hidden = parseNumber('hidden', values.hidden, 128, { integer: true, min: 8 })
  const heads = parseNumber('heads', values.heads, 4, { integer: true, min: 1 })
  if (hidden % heads !== 0) throw new CliError(`--hidden (${hidden}) must be a multiple of --heads (${heads})`)
  await train({
    data: values.data,
    out: values.out,
    work: values.work ?? join('artifacts', 'train', basename(resolve(values.out))),
    epochs: parseNumber('epochs', values.epochs, 10, { integer: true, min: 1 }),
    maxLength: parseNumber('max-length', values['max-length'], 256, { integer: true, min: 3 }),
    vocabSize: parseNumber('vocab-size', values['vocab-size'], 8000, { integer: true, min: 100 }),
    hidden,
    layers: parseNumber('layers', values.layers, 2, { integer: true, min: 1 }),
    heads,
    intermediate: parseNumber('intermediate', values.intermediate, 4 * hidden, { integer: true, min: 1 }),
    lr: parseNumber('lr', values.lr, 1e-3),
    batchSize: parseNumber('batch-size', values['batch-size'], 32, { integer: true, min: 1 }),
    dropout: parseNumber('dropout', values.dropout, 0.1),
    labelSmoothing: parseNumber('label-smoothing', values['label-smoothing'], 0),
    patience: parseNumber('patience', values.patience, 0, { integer: true }),
    seed: parseNumber('seed', values.seed, 42, { integer: true }),
  })
}
