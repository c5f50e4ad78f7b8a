// int8 k-NN kernel: exact top-k rows of an int8 key matrix by dot product with an int8 query.
//
// One source, two builds (see ../asconfig.json): with `--enable simd` the scan uses v128, without
// it a plain scalar scan; `ASC_FEATURE_SIMD` is a compile-time constant, so each build contains
// only its own scan. `simd()` tells the host which build it holds.
//
// Memory contract (the host owns the layout and grows the exported memory itself):
//   [0, heapBase())        reserved for the module (the stub runtime allocates nothing at run time)
//   keys                   n*d int8, row-major, copied in once by the host
//   query                  d int8, written per call
//   outRows, outDots       min(k, n) u32 / i32 each, 4-byte aligned; used as the top-k heap
// No imports: the build uses the stub runtime, --noAssert and no abort handler.
//
// Ranking: dot descending, then row ascending. Dots are exact in i32 while |dot| <= 16384*d < 2^31,
// i.e. d <= 131071; the host caps d lower than that.

/** 1 in the SIMD build, 0 in the scalar build. */
export function simd(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0
}

/** First 16-byte-aligned address the host may use for its buffers. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~(<usize>15)
}

// Top-k state for the current call. A binary heap with the *worst* kept entry at the root, so a
// candidate only has to beat one number (`thr`) to get in; most rows are rejected by one compare.
let heapRows: usize = 0
let heapDots: usize = 0
let heapSize: i32 = 0
let heapCap: i32 = 0

/**
 * Scans n rows of d int8 keys at `keys` against the d int8 `query`; writes the best min(k, n)
 * rows and their dots, best first, to `outRows`/`outDots`. Returns that count.
 */
export function search(keys: usize, n: i32, d: i32, query: usize, k: i32, outRows: usize, outDots: usize): i32 {
  if (n <= 0 || d <= 0 || k <= 0) return 0
  heapRows = outRows
  heapDots = outDots
  heapSize = 0
  heapCap = k < n ? k : n
  if (ASC_FEATURE_SIMD) {
    scanSimd(keys, n, d, query)
  } else {
    scanScalar(keys, n, d, query)
  }
  sortHeap()
  return heapSize
}

// ---- scans ----------------------------------------------------------------------------------

// The threshold a dot must strictly exceed to enter the heap. While the heap is not full every
// row enters: i32.MIN_VALUE is below any reachable dot. Where rows arrive in ascending order an
// equal dot never displaces a kept row: the earlier (lower) row wins the tie, as required; the
// SIMD scan's four streams do not, so they also let in an equal dot of a lower row (offerAny).
@inline function threshold(): i32 {
  return heapSize < heapCap ? i32.MIN_VALUE : load<i32>(heapDots)
}

function scanSimd(keys: usize, n: i32, d: i32, query: usize): void {
  const d16 = d & ~15
  const d8 = d & ~7
  const stride = <usize>d
  let thr = threshold()
  let r: i32 = 0
  // Four rows at a time: each query load feeds four rows, and the four sums come out as one
  // vector, so a block that cannot enter the heap costs one compare.
  // Four streams a quarter of the matrix apart, not four adjacent rows: the scan of a memory bigger than
  // the cache waits on DRAM, and four streams keep more misses in flight (100k x 384: 3.4 -> 1.7 ms).
  const q4 = n >> 2
  for (; r < q4; r++) {
    const r1 = r + q4
    const r2 = r1 + q4
    const r3 = r2 + q4
    const p0 = keys + <usize>r * stride
    const p1 = keys + <usize>r1 * stride
    const p2 = keys + <usize>r2 * stride
    const p3 = keys + <usize>r3 * stride
    let a0 = i32x4.splat(0)
    let a1 = i32x4.splat(0)
    let a2 = i32x4.splat(0)
    let a3 = i32x4.splat(0)
    let j: i32 = 0
    // load8x8_s sign-extends 8 int8 to 8 int16 in one op; dot_i16x8_s multiplies and adds pairs.
    for (; j < d16; j += 16) {
      const o = <usize>j
      const qa = v128.load8x8_s(query + o)
      const qb = v128.load8x8_s(query + o, 8)
      a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(p0 + o), qa), i32x4.dot_i16x8_s(v128.load8x8_s(p0 + o, 8), qb)))
      a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(p1 + o), qa), i32x4.dot_i16x8_s(v128.load8x8_s(p1 + o, 8), qb)))
      a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(p2 + o), qa), i32x4.dot_i16x8_s(v128.load8x8_s(p2 + o, 8), qb)))
      a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(p3 + o), qa), i32x4.dot_i16x8_s(v128.load8x8_s(p3 + o, 8), qb)))
    }
    if (j < d8) {
      const o = <usize>j
      const q = v128.load8x8_s(query + o)
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load8x8_s(p0 + o), q))
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load8x8_s(p1 + o), q))
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load8x8_s(p2 + o), q))
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load8x8_s(p3 + o), q))
      j += 8
    }
    // Transpose-and-add: lanes of `s` are the four rows' sums.
    const t01 = i32x4.add(i32x4.shuffle(a0, a1, 0, 4, 1, 5), i32x4.shuffle(a0, a1, 2, 6, 3, 7))
    const t23 = i32x4.add(i32x4.shuffle(a2, a3, 0, 4, 1, 5), i32x4.shuffle(a2, a3, 2, 6, 3, 7))
    let s = i32x4.add(i32x4.shuffle(t01, t23, 0, 1, 4, 5), i32x4.shuffle(t01, t23, 2, 3, 6, 7))
    if (j < d) {
      // Fewer than 8 bytes left (d % 8 != 0): finish them one byte at a time.
      let e0: i32 = 0, e1: i32 = 0, e2: i32 = 0, e3: i32 = 0
      for (; j < d; j++) {
        const o = <usize>j
        const q = <i32>load<i8>(query + o)
        e0 += <i32>load<i8>(p0 + o) * q
        e1 += <i32>load<i8>(p1 + o) * q
        e2 += <i32>load<i8>(p2 + o) * q
        e3 += <i32>load<i8>(p3 + o) * q
      }
      s = i32x4.add(s, i32x4(e0, e1, e2, e3))
    }
    if (v128.any_true(i32x4.ge_s(s, i32x4.splat(thr)))) {
      // Rows out of order: an equal dot enters when its row is lower than the root's.
      thr = offerAny(i32x4.extract_lane(s, 0), r, thr)
      thr = offerAny(i32x4.extract_lane(s, 1), r1, thr)
      thr = offerAny(i32x4.extract_lane(s, 2), r2, thr)
      thr = offerAny(i32x4.extract_lane(s, 3), r3, thr)
    }
  }
  r = q4 << 2
  // The last n % 4 rows, one at a time.
  for (; r < n; r++) {
    const p = keys + <usize>r * stride
    let a = i32x4.splat(0)
    let j: i32 = 0
    for (; j < d8; j += 8) {
      const o = <usize>j
      a = i32x4.add(a, i32x4.dot_i16x8_s(v128.load8x8_s(p + o), v128.load8x8_s(query + o)))
    }
    let dot = i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3)
    for (; j < d; j++) {
      const o = <usize>j
      dot += <i32>load<i8>(p + o) * <i32>load<i8>(query + o)
    }
    if (dot > thr) thr = offer(dot, r)
  }
}

function scanScalar(keys: usize, n: i32, d: i32, query: usize): void {
  const stride = <usize>d
  let thr = threshold()
  let r: i32 = 0
  // Same four-row blocking as the SIMD scan, so the two builds differ only in the arithmetic.
  for (; r + 4 <= n; r += 4) {
    const p0 = keys + <usize>r * stride
    const p1 = p0 + stride
    const p2 = p1 + stride
    const p3 = p2 + stride
    let s0: i32 = 0, s1: i32 = 0, s2: i32 = 0, s3: i32 = 0
    for (let j: i32 = 0; j < d; j++) {
      const o = <usize>j
      const q = <i32>load<i8>(query + o)
      s0 += <i32>load<i8>(p0 + o) * q
      s1 += <i32>load<i8>(p1 + o) * q
      s2 += <i32>load<i8>(p2 + o) * q
      s3 += <i32>load<i8>(p3 + o) * q
    }
    if (s0 > thr) thr = offer(s0, r)
    if (s1 > thr) thr = offer(s1, r + 1)
    if (s2 > thr) thr = offer(s2, r + 2)
    if (s3 > thr) thr = offer(s3, r + 3)
  }
  for (; r < n; r++) {
    const p = keys + <usize>r * stride
    let dot: i32 = 0
    for (let j: i32 = 0; j < d; j++) {
      const o = <usize>j
      dot += <i32>load<i8>(p + o) * <i32>load<i8>(query + o)
    }
    if (dot > thr) thr = offer(dot, r)
  }
}

// ---- top-k heap -----------------------------------------------------------------------------
// Entry i lives at heapRows + 4i (u32) and heapDots + 4i (i32). "Worse" = lower dot, or the same
// dot and a higher row; the root is the worst kept entry.

@inline function dotAt(i: i32): i32 {
  return load<i32>(heapDots + (<usize>i << 2))
}

@inline function rowAt(i: i32): u32 {
  return load<u32>(heapRows + (<usize>i << 2))
}

@inline function put(i: i32, dot: i32, row: u32): void {
  store<i32>(heapDots + (<usize>i << 2), dot)
  store<u32>(heapRows + (<usize>i << 2), row)
}

@inline function worse(dotA: i32, rowA: u32, dotB: i32, rowB: u32): bool {
  return dotA < dotB || (dotA == dotB && rowA > rowB)
}

@inline function offerAny(dot: i32, row: i32, thr: i32): i32 {
  if (dot > thr || (dot == thr && heapSize == heapCap && <u32>row < rowAt(0))) return offer(dot, row)
  return thr
}

/** Adds (dot, row), which beats the current threshold; returns the new threshold. */
function offer(dot: i32, row: i32): i32 {
  if (heapSize < heapCap) {
    // Sift up from the new leaf.
    let i = heapSize++
    while (i > 0) {
      const parent = (i - 1) >> 1
      const pd = dotAt(parent)
      const pr = rowAt(parent)
      if (!worse(dot, <u32>row, pd, pr)) break
      put(i, pd, pr)
      i = parent
    }
    put(i, dot, <u32>row)
  } else {
    siftDown(0, dot, <u32>row, heapSize)
  }
  return threshold()
}

/** Places (dot, row) at hole `i` of a heap of `size` entries, moving worse children up. */
function siftDown(i: i32, dot: i32, row: u32, size: i32): void {
  while (true) {
    let c = 2 * i + 1
    if (c >= size) break
    let cd = dotAt(c)
    let cr = rowAt(c)
    if (c + 1 < size) {
      const d2 = dotAt(c + 1)
      const r2 = rowAt(c + 1)
      if (worse(d2, r2, cd, cr)) {
        c++
        cd = d2
        cr = r2
      }
    }
    if (!worse(cd, cr, dot, row)) break
    put(i, cd, cr)
    i = c
  }
  put(i, dot, row)
}

/** Heapsort in place: repeatedly moves the worst entry to the end, leaving best-first order. */
function sortHeap(): void {
  for (let end = heapSize - 1; end > 0; end--) {
    const worstDot = dotAt(0)
    const worstRow = rowAt(0)
    siftDown(0, dotAt(end), rowAt(end), end)
    put(end, worstDot, worstRow)
  }
}
