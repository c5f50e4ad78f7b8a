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
  /** Set by whichever request ran the job's batch. */
  result?: { ok: true; value: TextOutputs } | { ok: false; error: unknown }
}

export interface MicroBatcherOptions {
  /** Runs one batch (ModelRunner.run). */
  run(batch: EncodedBatch): Promise<ModelOutputs>
  /** Pads token id lists into a batch (TextTokenizer.batchOf); ids here are at most maxLength long. */
  batchOf(ids: readonly (readonly number[])[]): EncodedBatch
  /** Most texts per run (the runtime's memory limit). */
  maxBatch: number
}

/**
 * No background loop: each caller waits for the run in flight, then, if its text is still queued, runs the
 * next batch itself (its own text and whatever else waits). In workerd a promise must not wait on another
 * request's continuation after that request has answered (the runtime cancels it as hung), so a run is always
 * driven by a request whose own text is still waiting, and the only promise shared across requests (`running`)
 * is settled by that request before it can answer.
 */
export class MicroBatcher {
  private readonly queue: Job[] = []
  private running: Promise<void> | undefined
  /** Runs made and texts run, for tests and the bench. */
  readonly stats = { runs: 0, texts: 0 }

  constructor(private readonly options: MicroBatcherOptions) {}

  /** The model outputs of one text, given its token ids cut to the model's maximum length. */
  async embed(ids: readonly number[]): Promise<TextOutputs> {
    const job: Job = { ids }
    this.queue.push(job)
    // A microtask later: the other texts of the same request, submitted in the same loop, are queued by then.
    await Promise.resolve()
    while (!job.result) {
      if (this.running) await this.running
      else await this.runNext()
    }
    if (!job.result.ok) throw job.result.error
    return job.result.value
  }

  private async runNext(): Promise<void> {
    const jobs = this.take()
    let finished!: () => void
    this.running = new Promise<void>((resolve) => (finished = resolve))
    try {
      const out = await this.options.run(this.options.batchOf(jobs.map((j) => j.ids)))
      this.stats.runs++
      this.stats.texts += jobs.length
      jobs.forEach((job, b) => {
        job.result = {
          ok: true,
          value: { logits: out.logits.slice(b * out.classes, (b + 1) * out.classes), embedding: out.embedding.slice(b * out.dim, (b + 1) * out.dim) },
        }
      })
    } catch (error) {
      for (const job of jobs) job.result = { ok: false, error }
    } finally {
      this.running = undefined
      finished()
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
