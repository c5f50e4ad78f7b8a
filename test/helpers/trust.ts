import { conformalQuantile, nonconformity } from '../../src/resmem/conformal.ts'
import type { Manifest } from '../../src/memory/manifest.ts'
import type { Classification } from '../../src/types.ts'

/** Largest novelty gap accepted between runtimes: their int8 models' embeddings differ a little (measured up to 0.015). */
export const NOVELTY_TOLERANCE = 0.02

/**
 * Where two runtimes' `novelty`, `unfamiliar` and `set` for one text disagree beyond their numbers' differences:
 * a label's membership or the unfamiliar flag may differ only when the boundary lies between the two runtimes'
 * values (their models' scores and embeddings differ slightly); otherwise both applied the same rule. Empty: agree.
 */
export function trustDisagreements(a: Classification, b: Classification, manifest: Manifest, alpha = manifest.conformal?.alpha ?? 0.1): string[] {
  const out: string[] = []
  if (!(Math.abs(a.novelty! - b.novelty!) <= NOVELTY_TOLERANCE)) out.push(`novelty ${a.novelty} vs ${b.novelty}`)
  const threshold = manifest.locality?.novelty.threshold
  if (threshold !== undefined && a.unfamiliar !== b.unfamiliar) {
    const straddles = Math.min(a.novelty!, b.novelty!) <= threshold && threshold < Math.max(a.novelty!, b.novelty!)
    if (!straddles) out.push(`unfamiliar ${a.unfamiliar} vs ${b.unfamiliar} at novelty ${a.novelty} vs ${b.novelty}`)
  }
  if (manifest.conformal) {
    const q = conformalQuantile(manifest.conformal.nonconformity, alpha)
    for (const { label } of a.scores) {
      const [sa, sb] = [a, b].map((r) => nonconformity(r.scores.find((s) => s.label === label)!.score))
      const [ina, inb] = [a, b].map((r) => r.set!.includes(label))
      if (ina !== inb && !(Math.min(sa, sb) <= q && q < Math.max(sa, sb))) out.push(`set membership of ${label}: ${ina} vs ${inb} at nonconformity ${sa} vs ${sb}, q ${q}`)
    }
  }
  return out
}
