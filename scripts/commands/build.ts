import { parseCpuBudget } from '../build/cpu-budget.ts'
import { parseArgs } from 'node:util'
import { MAX_PART_BYTES } from '../../src/memory/parts.ts'
import { CliError } from '../cli/errors.ts'
import { buildResMem, type BuildResult } from '../build/pipeline.ts'
import { PRECISION_CHOICES, type PrecisionChoice } from '../build/precision.ts'
import { DEFAULT_GRID, type Grid } from '../build/tune.ts'
import { InvalidKeySpecError, parseKeySpec, type KeySpec } from '../export/index.ts'

const HELP = `usage: resmem build --model DIR --train FILE --val FILE --out DIR [options]

Exports a ResMem-ready ONNX model (adds the "embedding" output feeding the classifier layer) and an int8
residual memory (memory.bin + manifest.json), tuning k, sigma and T on the validation split.

  --model DIR|URL|hf:owner/name   a Hugging Face classifier folder (config.json, tokenizer.json, onnx/model.onnx)
  --train FILE                    labelled JSONL ({"text","label"}) to memorize
  --val FILE                      labelled JSONL to tune k, sigma and T on
  --out DIR                       output folder (replaced only when the new build verifies)
  --name NAME                     name in the manifest (default: the model folder's name)
  --k LIST --sigma LIST --temperature LIST   grid, comma-separated (defaults ${DEFAULT_GRID.k.join(',')} / ${DEFAULT_GRID.sigma.join(',')} / ${DEFAULT_GRID.temperature.join(',')})
  --key KEY                       what the memory is keyed on (default auto: each preset and all of them
                                  side by side are tuned on val, the best is kept): penultimate,
                                  mean-last-hidden, mean-word-embeddings, mean(<tensor>), cls(<tensor>),
                                  none(<tensor>); join several with + or , to concatenate them (each
                                  L2-normalised), e.g. penultimate+mean-last-hidden+mean-word-embeddings
  --memory auto|on|off            serve the memory (default auto: only when its cross-fitted val gain over the
                                  base passes an exact one-sided McNemar test at alpha 0.05; off serves the
                                  base model, k = 0, and says why in manifest.json memory.decision)
  --edits FILE                    fold a served memory's edit log into the memory (from \`resmem memory pull\`;
                                  the same model and options as the served build: edits keep their ids, the
                                  worker skips them, answers stay the same)
  --max-part-bytes N              largest memory file (default and most 25165824, 24 MiB); a bigger memory is
                                  written as memory.part-000.bin, ... listed in manifest.json
  --key-dim N                     memory keys of N dimensions, fewer than the embedding's: a PCA fitted on the
                                  training keys, stored in the bundle (key-projection.bin) and applied by the library
  --quantize-model auto|int8|fp32 base model weights (default auto): int8 quantizes the MatMul/Gemm weights
                                  and the word embeddings (onnxruntime dynamic quantization's graph) into
                                  onnx/model_quantized.onnx and builds the memory from that model; auto takes
                                  int8 when its val accuracy is at most 0.2 points below fp32's
  --cpu-budget-ms N|free|off      serve the max length (256, 192, ..., 32 tokens, at most the trained one) that
                                  keeps the CPU p50 of the longest val text within 0.8 x N ms, measured on
                                  this machine on the worker's code path; the most accurate on val within it is
                                  served, every candidate's cost and val accuracy go to manifest.json cpuBudget.
                                  Default free: 10 ms, the Workers Free plan's limit (the choice depends on this
                                  machine and its load, so such a build is not byte-for-byte reproducible).
                                  off: no budget, the trained max length (Node, Workers Paid, reproducible builds)
  --batch-size N                  texts per model run (default 32)
  --hub-host URL                  hub host for hf: models (default https://huggingface.co)`

function key(value: string | undefined): KeySpec | 'auto' {
  if (value === undefined || value === 'auto') return 'auto'
  try {
    return parseKeySpec(value)
  } catch (err) {
    if (err instanceof InvalidKeySpecError) throw new CliError(`--key: ${err.message}`)
    throw err
  }
}

function cpuBudget(value: string | undefined): number | undefined {
  try {
    return parseCpuBudget(value)
  } catch (err) {
    throw new CliError((err as Error).message)
  }
}

function partBytes(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1024 || n > MAX_PART_BYTES) throw new CliError(`--max-part-bytes: expected an integer in 1024..${MAX_PART_BYTES} (24 MiB, under the 25 MiB Workers Static Assets file limit), got "${value}"`)
  return n
}

function numbers(flag: string, value: string | undefined, fallback: number[]): number[] {
  if (value === undefined) return fallback
  const list = value.split(',').map(Number)
  if (list.length === 0 || list.some((x) => !Number.isFinite(x) || x <= 0)) throw new CliError(`--${flag}: expected positive numbers separated by commas, got "${value}"`)
  return list
}

export function printBuild(result: BuildResult): void {
  const { manifest: m, seconds } = result
  const b = m.tuning.best
  console.log(`${m.name}: ${m.memory.rows} memory rows x ${m.memory.dim} dims, ${m.memory.bytes} bytes${m.memory.parts ? ` in ${m.memory.parts.length} parts` : ''}`)
  console.log(`tuned on val (${m.tuning.examples} examples, ${result.grid.length} points): k=${b.k} sigma=${b.sigma} T=${b.temperature}`)
  if (m.tuning.keys) console.log(`key (auto, best val accuracy): ${m.tuning.keys.map((c) => `${c.key} ${c.accuracy.toFixed(4)}`).join(', ')}`)
  console.log(`val accuracy: base ${m.tuning.baseAccuracy.toFixed(4)} -> resmem-fp32 ${b.accuracy.toFixed(4)}, resmem-int8 ${m.metrics.valResmemInt8Accuracy.toFixed(4)}  (${seconds.toFixed(1)} s)`)
  const p = m.precision
  if (p) {
    const compared = p.valAccuracy ? ` (val accuracy of the model alone: fp32 ${p.valAccuracy.fp32.toFixed(4)}, int8 ${p.valAccuracy.int8.toFixed(4)}; int8 when at most ${((p.maxDrop ?? 0) * 100).toFixed(1)} points lower)` : ''
    console.log(`base model: ${p.model} (${m.model.file}, ${m.model.bytes} bytes), --quantize-model ${p.choice}${compared}`)
  }
  const cb = m.cpuBudget
  if (cb) {
    console.log(`cpu budget ${cb.budgetMs} ms, measured on this machine (${cb.met ? 'met' : 'NOT met: the cheapest served'}; --cpu-budget-ms off serves the trained length): serving ${cb.chosen.precision} at ${cb.chosen.maxLength} tokens; candidates (CPU p50 ms, val accuracy): ${cb.candidates.map((c) => `${c.maxLength}: ${c.cpuMsP50} ${c.valAccuracy.toFixed(4)}`).join(', ')}`)
  }
  const d = m.memory.decision
  if (d) console.log(`memory ${d.on ? 'ON' : 'OFF'}: ${d.reason}${d.inSample ? ` [in-sample best point: +${d.inSample.gains} -${d.inSample.losses}, p = ${d.inSample.pValue.toPrecision(3)}]` : ''}`)
  if (m.calibration) console.log(`score temperature (val NLL): memory ${m.calibration.memory}, base ${m.calibration.base}`)
  if (m.edits) {
    const count = (ranges: [number, number][]) => ranges.reduce((n, [a, z]) => n + z - a + 1, 0)
    console.log(`folded the edit log up to version ${m.edits.version}: ${count(m.edits.ids)} learned examples appended, ${count(m.edits.forgotten)} built rows left out`)
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      train: { type: 'string' },
      val: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      k: { type: 'string' },
      sigma: { type: 'string' },
      temperature: { type: 'string' },
      'batch-size': { type: 'string' },
      key: { type: 'string' },
      edits: { type: 'string' },
      'max-part-bytes': { type: 'string' },
      'key-dim': { type: 'string' },
      'quantize-model': { type: 'string' },
      'cpu-budget-ms': { type: 'string' },
      memory: { type: 'string' },
      'hub-host': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) return console.log(HELP)
  for (const flag of ['model', 'train', 'val', 'out'] as const) if (!values[flag]) throw new CliError(`missing --${flag}\n\n${HELP}`)
  const precision = values['quantize-model'] ?? 'auto'
  if (!(PRECISION_CHOICES as readonly string[]).includes(precision)) throw new CliError(`--quantize-model: expected one of ${PRECISION_CHOICES.join(', ')}, got "${precision}"`)
  const memory = values.memory ?? 'auto'
  if (memory !== 'auto' && memory !== 'on' && memory !== 'off') throw new CliError(`--memory: expected auto, on or off, got "${memory}"`)
  const grid: Grid = {
    k: numbers('k', values.k, DEFAULT_GRID.k).map(Math.round),
    sigma: numbers('sigma', values.sigma, DEFAULT_GRID.sigma),
    temperature: numbers('temperature', values.temperature, DEFAULT_GRID.temperature),
  }
  const result = await buildResMem({
    model: values.model!,
    train: values.train!,
    val: values.val!,
    out: values.out!,
    name: values.name,
    grid,
    batchSize: values['batch-size'] ? Number(values['batch-size']) : undefined,
    hub: values['hub-host'] ? { host: values['hub-host'] } : undefined,
    key: key(values.key),
    edits: values.edits,
    maxPartBytes: partBytes(values['max-part-bytes']),
    keyDim: values['key-dim'] === undefined ? undefined : Number(values['key-dim']),
    quantizeModel: precision as PrecisionChoice,
    cpuBudgetMs: cpuBudget(values['cpu-budget-ms']),
    memory,
  })
  printBuild(result)
  console.log(`wrote ${values.out}`)
}
