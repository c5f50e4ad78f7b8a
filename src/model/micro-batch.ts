/**
 * Micro-batching: texts that wait while the model is busy (other requests' texts, in one isolate) run
 * together in one onnxruntime call, at most `maxBatch` texts per call.
 *
 * Only texts of the same token length share a run, so no text is padded: a run then computes each row
 * exactly as it would alone (measured bit-identical in onnxruntime-web's wasm build, float32 and our int8
 * graph, whose activation scales are per token; padding changes float sums by an ulp). Every answer is
 * the one the text gets alone, whatever else is in flight.
 */
import type { EncodedBatch } from '../tokenize/index.ts'
import type { ModelOutputs } from './runner.ts'

/** One text's model outputs. */
export interface TextOutputs {
  logits: Float32Array
  embedding: Float32Array
}

interface Job {
  ids: readonly number[]
  resolve(out: TextOutputs): void
  reject(err: unknown): void
}

export interface MicroBatcherOptions {
  /** Runs one batch (ModelRunner.run). */
  run(batch: EncodedBatch): Promise<ModelOutputs>
  /** Pads token id lists into a batch (TextTokenizer.batchOf); ids here are at most maxLength long. */
  batchOf(ids: readonly (readonly number[])[]): EncodedBatch
  /** Most texts per run (the runtime's memory limit). */
  maxBatch: number
  /** Lets other work (incoming requests) reach the queue between runs; default a macrotask (setTimeout 0). */
  yieldToOthers?: () => Promise<void>
}

export class MicroBatcher {
  private readonly queue: Job[] = []
  private draining = false
  /** Runs made and texts run, for tests and the bench. */
  readonly stats = { runs: 0, texts: 0 }

  constructor(private readonly options: MicroBatcherOptions) {}

  /** The model outputs of one text, given its token ids cut to the model's maximum length. */
  embed(ids: readonly number[]): Promise<TextOutputs> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ids, resolve, reject })
      if (!this.draining) {
        this.draining = true
        // A microtask later: the texts of one request, submitted in one loop, are all queued by then.
        queueMicrotask(() => void this.drain())
      }
    })
  }

  private async drain(): Promise<void> {
    const yieldToOthers = this.options.yieldToOthers ?? (() => new Promise<void>((r) => setTimeout(r, 0)))
    try {
      while (this.queue.length) {
        const jobs = this.take()
        try {
          const out = await this.options.run(this.options.batchOf(jobs.map((j) => j.ids)))
          this.stats.runs++
          this.stats.texts += jobs.length
          jobs.forEach((job, b) =>
            job.resolve({
              logits: out.logits.slice(b * out.classes, (b + 1) * out.classes),
              embedding: out.embedding.slice(b * out.dim, (b + 1) * out.dim),
            }),
          )
        } catch (err) {
          for (const job of jobs) job.reject(err)
        }
        if (this.queue.length) await yieldToOthers()
      }
    } finally {
      this.draining = false
    }
  }

  /** The oldest waiting text and, in arrival order, up to maxBatch - 1 more of the same length. */
  private take(): Job[] {
    const length = this.queue[0].ids.length
    const taken: Job[] = []
    const left: Job[] = []
    for (const job of this.queue) (taken.length < this.options.maxBatch && job.ids.length === length ? taken : left).push(job)
    this.queue.splice(0, this.queue.length, ...left)
    return taken
  }
}
