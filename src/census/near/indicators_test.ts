import assert from "node:assert/strict";
import { runCensus } from "../census.ts";
import { withUseLite } from "../../testing/use_lite_fixture.ts";

/**
 * Whether a piece is one the vocabulary itself marks as (nearly) unused,
 * read from the piece list alone, not from any embedding: SentencePiece's
 * control and reserved pieces (`<unk>` shown as `�`, `<s>`, `</s>`,
 * `extra_token_id_*`, all scored 0 in vocab.json), ids past the 8000
 * pieces (two rows the vocabulary never names), and single characters
 * outside ASCII (rare scripts and symbols kept only for character coverage).
 * 114 of the 8002 rows are such pieces: 0.3 expected among 20 by chance.
 */
function vocabularyUnused(label: string | null | undefined): boolean {
  if (label === null || label === undefined) return true;
  if (/^(<s>|<\/s>|�|extra_token_id_\d+)$/.test(label)) return true;
  const chars = [...label.replace(/^\u2581/, "")];
  return chars.length === 1 && chars[0].codePointAt(0)! > 127;
}

Deno.test("indicators: USE-Lite's lowest-norm rows are its unused pieces", async () => {
  let report!: Awaited<ReturnType<typeof runCensus>>;
  await withUseLite(async (fixture) => {
    report = await runCensus(fixture, {
      indicators: { top: 20, unusedPattern: /^extra_token_id_\d+$/ },
    });
  });
  const [t] = report.tensors;
  assert.deepEqual(t.shape, [8002, 256]);
  const ind = t.indicators!;
  assert.equal(ind.knownUnused.rows, 3);
  const byNorm = ind.byNorm.filter((r) => vocabularyUnused(r.label));
  const byDistance = ind.byUnusedDistance!.filter((r) =>
    vocabularyUnused(r.label)
  );
  // Observed 19 and 18 of 20; 15 leaves room for a retrained or re-rounded
  // matrix while being far beyond chance (0.3 expected).
  assert.ok(byNorm.length >= 15, `${byNorm.length} of 20 by norm`);
  assert.ok(byDistance.length >= 15, `${byDistance.length} of 20 by distance`);
  // The unknown-piece row leads, far below the mean norm.
  assert.equal(ind.byNorm[0].label, "�");
  assert.ok(ind.byNorm[0].z < -2, `z ${ind.byNorm[0].z}`);
  // The known-unused rows are left out of their own distance table.
  assert.ok(ind.byUnusedDistance!.every((r) => !r.knownUnused));
  // A trained matrix: no exact black holes.
  assert.equal(t.C, 0);
});
