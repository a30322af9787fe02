/** Physics settings of a Fetch-style scene; one control step lasts dt × substeps seconds. */
export interface PhysicsConfig {
  /** Physics timestep, seconds (at most 0.01, ManiSkill's 100 Hz default). */
  dt: number;
  /** Physics steps per control step. */
  substeps: number;
  /** Rapier solver iterations per physics step (`numSolverIterations`: its soft-TGS solver runs them as substeps of dt). */
  solverIterations: number;
  /** Natural frequency of the critically damped palm follower, 1/s (Fetch's weld lag: ~60% of a step covered). */
  followOmega: number;
  /** Fastest an object near the gripper may move unless the gripper itself moves faster, m/s (README, Grasping). */
  maxObjectSpeed: number;
  /** Most envs in one Rapier World; a thread steps its Worlds one after another (README, Physics). */
  envsPerWorld: number;
  /** Gap under which Rapier builds predictive contacts, m (its `normalizedPredictionDistance` at lengthUnit 1; Rapier's default is 0.02). */
  contactPrediction: number;
}

/** Chosen with bench/physics.ts: 25 Hz control, dt 0.01 × 4, 2 solver iterations (README, Physics, explains). */
export const DEFAULT_PHYSICS: PhysicsConfig = { dt: 0.01, substeps: 4, solverIterations: 2, followOmega: 50, maxObjectSpeed: 1.5, envsPerWorld: 128, contactPrediction: 0.01 };

/** Merges user settings over the defaults and rejects values that are not finite and positive. */
export function resolvePhysicsConfig(user: Partial<PhysicsConfig> = {}): PhysicsConfig {
  const cfg = { ...DEFAULT_PHYSICS, ...user };
  for (const [k, v] of Object.entries(cfg)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`physics.${k} must be a finite positive number, got ${v}`);
  }
  if (!Number.isInteger(cfg.substeps) || !Number.isInteger(cfg.solverIterations) || !Number.isInteger(cfg.envsPerWorld)) {
    throw new Error(`physics.substeps, physics.solverIterations and physics.envsPerWorld must be integers`);
  }
  if (cfg.dt > 0.01 + 1e-12) throw new Error(`physics.dt must be at most 0.01 s, got ${cfg.dt}`);
  if (cfg.contactPrediction > 0.1) throw new Error(`physics.contactPrediction must be at most 0.1 m (a gap wider than the objects builds contacts between bodies apart), got ${cfg.contactPrediction}`);
  if (cfg.substeps > 1000 || cfg.solverIterations > 1000) throw new Error(`physics.substeps and physics.solverIterations must be at most 1000`);
  return cfg;
}
