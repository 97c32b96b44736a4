;; The SIMD row-hash kernel: the 16 lanes of `hashRowBytes` (row_hash.ts) as
;; four i32x4 vectors. Built with wabt into kernel_wasm.ts by
;; `deno task build:kernel`; kernel_test.ts rebuilds it and compares.
;;
;; Both functions take (src, rowBytes, rows, out, flags, spec). For each of
;; `rows` rows of `rowBytes` bytes (a multiple of 64) at `src`, they store the
;; four folded lanes (16 bytes) at `out + 16 * row`; JavaScript then applies
;; `finalKey`. `hash` ignores `flags` and `spec`. `hashCheck` also stores at
;; `flags + row` one byte, 1 when the row holds a NaN or ±Inf: read as eight
;; u16 lanes, every 16 bytes are ANDed with the mask at `spec` (0x7fff on the
;; lanes holding an element's top 16 bits, 0 elsewhere) and folded into a
;; running unsigned maximum, compared at the row's end with the threshold at
;; `spec + 16` (see `NonFiniteSpec` in non_finite.ts).
;;
;; Loads and stores say align=1: the caller may pass any address. The
;; multipliers are kept in locals: as constants inside the loop they cost
;; ~40% more time. Both functions declare the same locals, so that the two
;; bodies differ only where `hashCheck` adds its check.
(module
  (import "env" "memory" (memory 1))

  (func $hash (export "hash")
    (param $src i32) (param $rowBytes i32) (param $rows i32)
    (param $out i32) (param $flags i32) (param $spec i32)
    (local $end i32) (local $p i32) (local $rowEnd i32)
    (local $lane0 v128) (local $lane1 v128) (local $lane2 v128) (local $lane3 v128)
    (local $tmp v128)
    (local $mult0 v128) (local $mult1 v128) (local $mult2 v128) (local $mult3 v128)
    (local $mask v128) (local $threshold v128) (local $max v128) (local $v v128)
    ;; MULTS of row_hash.ts, lane j in vector j / 4.
    v128.const i32x4 0x9e3779b1 0x85ebca77 0xc2b2ae3d 0x27d4eb2f
    local.set $mult0
    v128.const i32x4 0x165667b1 0xd3a2646d 0xfd7046c5 0xb55a4f09
    local.set $mult1
    v128.const i32x4 0x2c1b3c6d 0x297a2d39 0x68e31da5 0x1b873593
    local.set $mult2
    v128.const i32x4 0xcc9e2d51 0xe6546b65 0x7feb352d 0x846ca68b
    local.set $mult3
    ;; end = src + rowBytes * rows
    local.get $src
    local.get $rowBytes
    local.get $rows
    i32.mul
    i32.add
    local.set $end
    local.get $src
    local.set $p
    block $done
      loop $row
        local.get $p
        local.get $end
        i32.ge_u
        br_if $done
        local.get $p
        local.get $rowBytes
        i32.add
        local.set $rowEnd
        ;; SEEDS of row_hash.ts.
        v128.const i32x4 0x9e3779b9 0x3c6ef372 0xdaa66d2b 0x78dde6e4
        local.set $lane0
        v128.const i32x4 0x1715609d 0xb54cda56 0x5384540f 0xf1bbcdc8
        local.set $lane1
        v128.const i32x4 0x8ff34781 0x2e2ac13a 0xcc623af3 0x6a99b4ac
        local.set $lane2
        v128.const i32x4 0x08d12e65 0xa708a81e 0x454021d7 0xe3779b90
        local.set $lane3
        block $rowDone
          loop $chunk
            local.get $p
            local.get $rowEnd
            i32.ge_u
            br_if $rowDone
            ;; lane = x ^ (x >>> 15), x = (lane ^ word) * mult; 64 bytes.
            local.get $lane0
            local.get $p
            v128.load align=1
            v128.xor
            local.get $mult0
            i32x4.mul
            local.tee $tmp
            local.get $tmp
            i32.const 15
            i32x4.shr_u
            v128.xor
            local.set $lane0
            local.get $lane1
            local.get $p
            v128.load offset=16 align=1
            v128.xor
            local.get $mult1
            i32x4.mul
            local.tee $tmp
            local.get $tmp
            i32.const 15
            i32x4.shr_u
            v128.xor
            local.set $lane1
            local.get $lane2
            local.get $p
            v128.load offset=32 align=1
            v128.xor
            local.get $mult2
            i32x4.mul
            local.tee $tmp
            local.get $tmp
            i32.const 15
            i32x4.shr_u
            v128.xor
            local.set $lane2
            local.get $lane3
            local.get $p
            v128.load offset=48 align=1
            v128.xor
            local.get $mult3
            i32x4.mul
            local.tee $tmp
            local.get $tmp
            i32.const 15
            i32x4.shr_u
            v128.xor
            local.set $lane3
            local.get $p
            i32.const 64
            i32.add
            local.set $p
            br $chunk
          end
        end
        ;; out[row] = lane0 ^ rotl(lane1, 8) ^ rotl(lane2, 16) ^ rotl(lane3, 24)
        local.get $out
        local.get $lane0
        local.get $lane1
        local.tee $tmp
        i32.const 8
        i32x4.shl
        local.get $tmp
        i32.const 24
        i32x4.shr_u
        v128.or
        v128.xor
        local.get $lane2
        local.tee $tmp
        i32.const 16
        i32x4.shl
        local.get $tmp
        i32.const 16
        i32x4.shr_u
        v128.or
        v128.xor
        local.get $lane3
        local.tee $tmp
        i32.const 24
        i32x4.shl
        local.get $tmp
        i32.const 8
        i32x4.shr_u
        v128.or
        v128.xor
        v128.store align=1
        local.get $out
        i32.const 16
        i32.add
        local.set $out
        br $row
      end
    end)

  (func $hashCheck (export "hashCheck")
    (param $src i32) (param $rowBytes i32) (param $rows i32)
    (param $out i32) (param $flags i32) (param $spec i32)
    (local $end i32) (local $p i32) (local $rowEnd i32)
    (local $lane0 v128) (local $lane1 v128) (local $lane2 v128) (local $lane3 v128)
    (local $tmp v128)
    (local $mult0 v128) (local $mult1 v128) (local $mult2 v128) (local $mult3 v128)
    (local $mask v128) (local $threshold v128) (local $max v128) (local $v v128)
    v128.const i32x4 0x9e3779b1 0x85ebca77 0xc2b2ae3d 0x27d4eb2f
    local.set $mult0
    v128.const i32x4 0x165667b1 0xd3a2646d 0xfd7046c5 0xb55a4f09
    local.set $mult1
    v128.const i32x4 0x2c1b3c6d 0x297a2d39 0x68e31da5 0x1b873593
    local.set $mult2
    v128.const i32x4 0xcc9e2d51 0xe6546b65 0x7feb352d 0x846ca68b
    local.set $mult3
    local.get $spec
    v128.load align=1
    local.set $mask
    local.get $spec
    v128.load offset=16 align=1
    local.set $threshold
    local.get $src
    local.get $rowBytes
    local.get $rows
    i32.mul
    i32.add
    local.set $end
    local.get $src
    local.set $p
    block $done
      loop $row
        local.get $p
        local.get $end
        i32.ge_u
        br_if $done
        local.get $p
        local.get $rowBytes
        i32.add
        local.set $rowEnd
        v128.const i32x4 0x9e3779b9 0x3c6ef372 0xdaa66d2b 0x78dde6e4
        local.set $lane0
        v128.const i32x4 0x1715609d 0xb54cda56 0x5384540f 0xf1bbcdc8
        local.set $lane1
        v128.const i32x4 0x8ff34781 0x2e2ac13a 0xcc623af3 0x6a99b4ac
        local.set $lane2
        v128.const i32x4 0x08d12e65 0xa708a81e 0x454021d7 0xe3779b90
        local.set $lane3
        v128.const i32x4 0 0 0 0
        local.set $max
        block $rowDone
          loop $chunk
            local.get $p
            local.get $rowEnd
            i32.ge_u
            br_if $rowDone
            ;; As in $hash, and max = max_u(max, v & mask) per u16 lane.
            local.get $lane0
            local.get $p
            v128.load align=1
            local.tee $v
            v128.xor
            local.get $mult0
            i32x4.mul
            local.tee $tmp
            local.get $tmp
            i32.const 15
            i32x4.shr_u
            v128.xor
            local.set $lane0
            local.get $max
            local.get $v
            local.get $mask
            v128.and
            i16x8.max_u
            local.set $max
            local.get $lane1
            local.get $p
            v128.load offset=16 align=1
            local.tee $v
            v128.xor
            local.get $mult1
            i32x4.mul
            local.tee $tmp
            local.get $tmp
            i32.const 15
            i32x4.shr_u
            v128.xor
            local.set $lane1
            local.get $max
            local.get $v
            local.get $mask
            v128.and
            i16x8.max_u
            local.set $max
            local.get $lane2
            local.get $p
            v128.load offset=32 align=1
            local.tee $v
            v128.xor
            local.get $mult2
            i32x4.mul
            local.tee $tmp
            local.get $tmp
            i32.const 15
            i32x4.shr_u
            v128.xor
            local.set $lane2
            local.get $max
            local.get $v
            local.get $mask
            v128.and
            i16x8.max_u
            local.set $max
            local.get $lane3
            local.get $p
            v128.load offset=48 align=1
            local.tee $v
            v128.xor
            local.get $mult3
            i32x4.mul
            local.tee $tmp
            local.get $tmp
            i32.const 15
            i32x4.shr_u
            v128.xor
            local.set $lane3
            local.get $max
            local.get $v
            local.get $mask
            v128.and
            i16x8.max_u
            local.set $max
            local.get $p
            i32.const 64
            i32.add
            local.set $p
            br $chunk
          end
        end
        local.get $out
        local.get $lane0
        local.get $lane1
        local.tee $tmp
        i32.const 8
        i32x4.shl
        local.get $tmp
        i32.const 24
        i32x4.shr_u
        v128.or
        v128.xor
        local.get $lane2
        local.tee $tmp
        i32.const 16
        i32x4.shl
        local.get $tmp
        i32.const 16
        i32x4.shr_u
        v128.or
        v128.xor
        local.get $lane3
        local.tee $tmp
        i32.const 24
        i32x4.shl
        local.get $tmp
        i32.const 8
        i32x4.shr_u
        v128.or
        v128.xor
        v128.store align=1
        local.get $out
        i32.const 16
        i32.add
        local.set $out
        ;; flags[row] = any u16 lane of max >= threshold
        local.get $flags
        local.get $max
        local.get $threshold
        i16x8.ge_u
        v128.any_true
        i32.store8
        local.get $flags
        i32.const 1
        i32.add
        local.set $flags
        br $row
      end
    end))
