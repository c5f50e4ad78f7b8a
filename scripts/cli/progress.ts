import cliProgress from 'cli-progress'

export interface Progress {
  /** Advance by `n` items. */
  increment(n: number): void
  stop(): void
}

/**
 * A progress bar with items/s for long jobs. On a non-TTY (CI logs) it prints a line every ~10% instead of
 * redrawing, so logs stay readable.
 */
export function progress(label: string, total: number, unit = 'examples'): Progress {
  const started = performance.now()
  let done = 0
  if (!process.stderr.isTTY) {
    let nextReport = 0.1
    return {
      increment(n) {
        done += n
        if (done / total >= nextReport || done === total) {
          const rate = done / ((performance.now() - started) / 1000)
          process.stderr.write(`${label}: ${done}/${total} ${unit} (${rate.toFixed(1)} ${unit}/s)\n`)
          while (nextReport <= done / total) nextReport += 0.1
        }
      },
      stop() {},
    }
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | eta {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  )
  bar.start(total, 0, { rate: '0.0' })
  return {
    increment(n) {
      done += n
      bar.update(done, { rate: (done / ((performance.now() - started) / 1000)).toFixed(1) })
    },
    stop() {
      bar.stop()
    },
  }
}
