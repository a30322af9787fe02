/**
 * Exports a checkpoint's policy as safetensors with named tensors: pi.{l}.weight [out, in], pi.{l}.bias [out],
 * pi.log_std [actDim], vf.{l}.weight / vf.{l}.bias, and the observation normalizer's obs_norm.mean and
 * obs_norm.var (float64); the metadata says how to compute the mean action and what the input is (README, Exporting a
 * policy; with stageInObs, the stage one-hot and the stage names).
 */
import { paramLayout } from '../nn/param-layout.ts';
import { checkpointSubgoals, type CheckpointArrays, type CheckpointManifest } from './checkpoint.ts';
import { encodeSafetensors, type Tensor } from './safetensors.ts';

/** Safetensors name of a parameter entry: policy.{l}.* → pi.{l}.*, value.{l}.* → vf.{l}.*, logStd → pi.log_std. */
function exportName(name: string): string {
  if (name === 'logStd') return 'pi.log_std';
  return name.replace(/^policy\./, 'pi.').replace(/^value\./, 'vf.');
}

/** The bytes of the safetensors export of a checkpoint. */
export function policySafetensors(m: CheckpointManifest, arrays: CheckpointArrays): Uint8Array {
  const layout = paramLayout(m.obsDim, m.actDim, m.hidden);
  const tensors: Record<string, Tensor> = {};
  for (const e of layout.entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    tensors[exportName(e.name)] = { dtype: 'F32', shape: e.shape, data: arrays.params.subarray(e.offset, e.offset + n) };
  }
  tensors['obs_norm.mean'] = { dtype: 'F64', shape: [m.obsDim], data: Float64Array.from(m.normalizer.mean) };
  tensors['obs_norm.var'] = { dtype: 'F64', shape: [m.obsDim], data: Float64Array.from(m.normalizer.var) };
  // With stageInObs the input ends with the one-hot of the latched stage (stage k of the run's spec at index k; K = every stage done).
  const stages = checkpointSubgoals(m)?.stages;
  const stageMeta: Record<string, string> = m.stageInObs ? {
    input: 'observation ⊕ desired_goal ⊕ one_hot(latched stage, K + 1)',
    stage_names: JSON.stringify(Array.isArray(stages) ? stages.map((st) => String(st.name)) : []),
  } : { input: 'observation ⊕ desired_goal' };
  return encodeSafetensors(tensors, {
    format: 'cairn-policy', task: m.task, ...stageMeta, obs_dim: String(m.obsDim), act_dim: String(m.actDim),
    hidden: m.hidden.join(','), layers: String(m.hidden.length + 1), activation: 'tanh',
    'obs_norm.eps': String(m.normalizer.eps), 'obs_norm.clip': String(m.normalizer.clip),
    mean_action: 'x = clip((input − obs_norm.mean) / sqrt(obs_norm.var + eps), ±clip); x = tanh(x W_lᵀ + b_l) for hidden layers; mean = x W_Lᵀ + b_L',
    env_steps: String(m.envSteps), seed: String(m.seed),
  });
}
