#!/usr/bin/env node
/**
 * A rule-based proposer for `cairn search --proposer` (the protocol in engine/lab/search.ts), standing in for the
 * language model of Eureka and Auto MC-Reward. It reads the previous generation on stdin, takes its fittest
 * candidate (by the `fitness` the search passes: success + 0.1 × goal progress) and that candidate's failure
 * analysis, and finds the stage where most episodes stall. It proposes that stage's potential made easier to climb:
 * its progress σ ×3 or ×10 (or ×0.5), with or without its distance predicates' thresholds doubled, or σ widened from
 * that stage on; and the derived points of the hand-over stage (the one before it, or itself for the first), e.g. a
 * point behind the object, moved ±3 or +6 cm along their offset. A σ far below the distances the gripper and objects
 * start at makes the potential flat there, and PPO gets no gradient; a hand-over point too close to the object
 * leaves the next stage nothing to push from. Those are the failures this proposer repairs.
 *
 * It prints { "candidates": [spec, …] } on stdout and one line of reasons on stderr; candidates already trained are
 * refused by the search, which fills the places left with mutations.
 *
 * Usage: cairn search … --proposer "node bench/proposers/widen-stalled.mjs"
 */
import { readFileSync } from 'node:fs';

/** Caps that keep the proposals physical (the validator's own bounds are wider): σ ≤ 1 m, a distance threshold ≤ 0.25 m. */
const MAX_SIGMA = 1;
const MAX_BELOW = 0.25;

const round = (x) => Number(x.toPrecision(4));

/** Fitness as the search ranks candidates (it passes each one's; untrained: last). */
function fitness(c) {
  return c.fitness ?? -Infinity;
}

/** The stage (0 … K − 1) where most of the analysed episodes stall. */
function stalledStage(analysis, K) {
  let k = 0;
  for (let j = 1; j < K; j++) if ((analysis.stalls[j] ?? 0) > (analysis.stalls[k] ?? 0)) k = j;
  return k;
}

/** Scales every distance threshold of a predicate by factor (in place; an 'all' predicate scales its leaves). */
function widenBelow(p, factor) {
  if (p.kind === 'distance') p.below = round(Math.min(MAX_BELOW, p.below * factor));
  else if (p.kind === 'all') for (const q of p.of) widenBelow(q, factor);
}

/** A copy of spec with stage `from`…`to` σ scaled by `sigma` and, when `below` ≠ 1, stage `from`'s thresholds by `below`. */
function variant(spec, from, to, sigma, below) {
  const s = structuredClone(spec);
  for (let j = from; j <= to; j++) {
    const pr = s.stages[j].progress;
    if (pr) pr.sigma = round(Math.min(MAX_SIGMA, pr.sigma * sigma));
  }
  if (below !== 1) widenBelow(s.stages[from].predicate, below);
  return s;
}

/** Names of the points stage j's predicate and progress term measure between. */
function stagePoints(stage) {
  const names = new Set();
  const leaf = (p) => {
    if (p.kind === 'all') p.of.forEach(leaf);
    else for (const key of ['a', 'b']) if (typeof p[key] === 'string') names.add(p[key]);
  };
  leaf(stage.predicate);
  if (stage.progress) for (const key of ['a', 'b']) names.add(stage.progress[key]);
  return [...names];
}

/** Copies of spec with each derived point that stage j measures to moved `by` metres further along its offset. */
function offsetVariants(spec, j, by) {
  const out = [];
  for (const name of stagePoints(spec.stages[j])) {
    const pt = spec.points?.[name];
    if (!pt || typeof pt.offset !== 'number') continue;
    const s = structuredClone(spec);
    s.points[name].offset = round(pt.offset + by);
    out.push(s);
  }
  return out;
}

export function propose(input) {
  const ranked = [...input.candidates].filter((c) => c.analysis && c.spec).sort((a, b) => fitness(b) - fitness(a));
  if (!ranked.length) return { candidates: [], why: 'no candidate with a failure analysis' };
  const base = ranked[0], K = base.spec.stages.length, k = stalledStage(base.analysis, K);
  const share = (base.analysis.stalls[k] / base.analysis.episodes).toFixed(2);
  // The stage before the stalled one hands over to it: where episodes stall past stage 0, its derived points (e.g. a
  // point behind the object) may sit where the next stage cannot start from.
  const handOver = k > 0 ? k - 1 : k;
  // Most different first: a search trains only as many as it has places (population − elites), and refuses the ones
  // it trained before, so the list is long.
  const out = [
    variant(base.spec, k, k, 10, 1),
    variant(base.spec, k, K - 1, 10, 1),
    variant(base.spec, k, k, 3, 2),
    ...offsetVariants(base.spec, handOver, 0.03),
    variant(base.spec, k, K - 1, 3, 1),
    ...offsetVariants(base.spec, handOver, 0.06),
    variant(base.spec, k, k, 3, 1),
    variant(base.spec, k, k, 0.5, 1),
    variant(base.spec, k, k, 10, 2),
    ...offsetVariants(base.spec, handOver, -0.03),
  ];
  const unique = [...new Map(out.map((s) => [JSON.stringify(s), s])).values()].filter((s) => JSON.stringify(s) !== JSON.stringify(base.spec));
  return { candidates: unique, why: `from ${base.id} (success ${base.meanSuccess}): ${share} of its episodes stall at stage ${k} '${base.spec.stages[k].name}', σ ${base.spec.stages[k].progress?.sigma}; widening it, and moving the points stage ${handOver} hands over from` };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { candidates, why } = propose(JSON.parse(readFileSync(0, 'utf8')));
  console.error(`widen-stalled: ${why}`);
  console.log(JSON.stringify({ candidates }));
}
