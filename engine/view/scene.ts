/**
 * The three.js scene of a batch of Fetch-style envs, drawn from the batch's state block (engine/batch.ts) with a
 * constant number of draw calls whatever N: one InstancedMesh holds every box (tables, palms, fingers and box
 * objects: a unit cube scaled, rotated and placed per instance, with per-instance colours), one every cylinder
 * object (Slide's puck; only in scenes that have one), one the goal markers (an opaque core in a translucent
 * sphere of the success radius, one per 3-D part of the goal), one the stage markers, plus the floor grid and the focused env's
 * outline. Draw calls, not triangles or pixels, are what cost most in software WebGL (ANGLE on SwiftShader
 * measured ~4 ms per extra instanced draw on 2 cores), so the kinds share one mesh where they share a shape.
 *
 * What is drawn per env i, all from the SceneFrame's views:
 * - the table of task.scene.table, its top raised by sceneParams[i, P_TABLE_DZ];
 * - the palm and two fingers at the grip site bodyPose[i, 0] (the gripper only translates), the +y and −y
 *   finger centred at y = ±(FINGER_HALF[1] + FINGER_GAP0 + fingerPos[i, f]) from it;
 * - object k at bodyPose[i, 1 + k] (position and quaternion), its half extents × sceneParams[i, objectParam(k)
 *   + PO_SCALE], in OBJECT_COLORS[k];
 * - goal part j at desiredGoal[i, 3j..3j+3] in object j's colour (GOAL_COLOR without an object), green while
 *   achievedGoal's part j lies within the success radius of it;
 * - the stage marker at the current stage's target (engine/view/subgoal-targets.ts), coloured by stage.
 *
 * World frame (z up): env i sits in cell (i mod side, ⌊i / side⌋) of a grid of side ⌈√N⌉ cells, cellX by cellY
 * metres (VIEW_SPACING, or the table's size plus VIEW_MARGIN when larger: Slide's long table), with the
 * env-local point (table centre, 0) at the cell's centre. This is the view's own layout, not the physics grid
 * (which spaces envs 3 m apart); positions come from the batch (env-local, metres), so the two never need to agree.
 *
 * Colours, the material and the goal geometry are in scene-style.ts, the camera in scene-camera.ts, the matrix
 * writers in instance-matrix.ts.
 */
import * as THREE from 'three';
import { FINGER_GAP0, FINGER_HALF, FINGER_OFFSET_Z, PALM_HALF, PALM_OFFSET_Z } from '../physics/fetch-scene.ts';
import { POSE_WIDTH } from '../physics/scene-def.ts';
import { objectParam, P_TABLE_DZ, PO_SCALE } from '../domain-randomization.ts';
import type { TaskDef } from '../../tasks/task.ts';
import { writeBox, writePose } from './instance-matrix.ts';
import { SceneCamera } from './scene-camera.ts';
import { FINGER_COLOR, goalGeometry, GOAL_COLOR, GOAL_REACHED_COLOR, instanceLit, objectColor, PALM_COLOR, stageColor, TABLE_COLOR } from './scene-style.ts';

/** Least distance between neighbouring env cells in the view, metres. */
export const VIEW_SPACING = 1.1;
/** Free space kept between neighbouring tables when a table is larger than VIEW_SPACING allows, metres. */
export const VIEW_MARGIN = 0.4;
/** Radius of a stage marker, metres. */
export const STAGE_MARKER_RADIUS = 0.02;
/** Blob shadows: opacity, the gripper's radius (m), how fast a shadow shrinks with height (per metre) and its lift off the table top (m). */
const SHADOW_OPACITY = 0.3;
const GRIPPER_SHADOW_RADIUS = 0.045;
const SHADOW_FALLOFF = 4;
const SHADOW_LIFT = 0.002;

/** A blob shadow at instance offset o: a disc of `radius` at (x, y) on the table top `top`, shrinking with the body's height h above it; none under a body below the top (fallen off). */
function writeShadow(m: Float32Array, o: number, radius: number, x: number, y: number, h: number, top: number): void {
  const r = h < -0.01 ? 0 : radius / (1 + SHADOW_FALLOFF * Math.max(h, 0));
  writeBox(m, o, r, r, 1, x, y, top + SHADOW_LIFT);
}

/** What the scene draws each frame: views of the batch's state block and of the view's stage targets (env-local metres). */
export interface SceneFrame {
  /** [N, B, 7] body poses: body 0 the grip site, 1..K the objects (x, y, z, qx, qy, qz, qw). */
  bodyPose: Float32Array;
  /** [N, 2] finger half-openings of the +y and −y finger, metres. */
  fingerPos: Float32Array;
  /** [N, G] desired goals (G / 3 parts). */
  desiredGoal: Float32Array;
  /** [N, G] achieved goals. */
  achievedGoal: Float32Array;
  /** [N, S] randomized scene parameters (engine/domain-randomization.ts). */
  sceneParams: Float32Array;
  /** [N, 3] target of each env's current stage. */
  stageTargets: Float32Array;
  /** [N] current stage. */
  stage: Int32Array;
}

/** Instance matrices as drawn (world frame, column-major, 16 floats each) and colours (linear RGB), for tests. */
export interface SceneInstances {
  /** [N, 16] each env's table. */
  tables: number[];
  /** [N, 16] each env's palm. */
  palms: number[];
  /** [N, 2, 16] each env's +y then −y finger. */
  fingers: number[];
  /** Per object k: its shape, [N, 16] matrices and [N, 3] colours. */
  objects: { name: string; shape: 'box' | 'cylinder'; matrices: number[]; colors: number[] }[];
  /** [N, M, 16] goal markers (M = goalDim / 3) and their [N, M, 3] colours. */
  goals: number[];
  goalColors: number[];
}

/** Creates the renderer the view keeps for its life (scenes come and go with the task and N). */
export function createRenderer(canvas: HTMLCanvasElement): THREE.WebGLRenderer {
  // No MSAA and pixel ratio 1: software rasterizers (SwiftShader in headless Chromium) pay per sample.
  const r = new THREE.WebGLRenderer({ canvas, antialias: false, powerPreference: 'high-performance' });
  r.setPixelRatio(1);
  return r;
}

export class EnvScene {
  readonly renderer: THREE.WebGLRenderer;
  readonly scene = new THREE.Scene();
  readonly numEnvs: number;
  readonly numStages: number;
  /** Cells per grid row. */
  readonly side: number;
  /** Cell size along x and y, metres. */
  readonly cellX: number;
  readonly cellY: number;
  /** [x, y] env-local point drawn at each cell's centre: the task's table centre, metres. */
  readonly center: readonly [number, number];
  /** [N, 3] world position of each env's local point (center, 0), m. */
  readonly origins: Float32Array;
  /** Env the camera follows, or null. */
  focus: number | null = null;
  private readonly task: TaskDef;
  /** Objects K and goal parts M per env. */
  private readonly numObjects: number;
  private readonly numGoals: number;
  /**
   * Every box, by instance range: tables [0, N), palms [N, 2N), fingers [2N, 4N) (env i's +y finger at 2N + 2i,
   * its −y finger at 2N + 2i + 1), then the box objects: the j-th box object of the scene at [(4 + j) N, (5 + j) N).
   */
  private readonly boxes: THREE.InstancedMesh;
  /** Every cylinder object (the j-th cylinder object of the scene at [jN, (j + 1) N)), or null when the scene has none. */
  private readonly cylinders: THREE.InstancedMesh | null;
  /** [K] mesh and first instance of object k (env i's at first + i). */
  private readonly objectMesh: THREE.InstancedMesh[];
  private readonly objectFirst: Int32Array;
  /** [N, M] goal markers: env i's part j at iM + j. */
  private readonly goals: THREE.InstancedMesh;
  private readonly markers: THREE.InstancedMesh;
  /** [N, 1 + K] blob shadows on the table top under the gripper (i(1 + K)) and each object (i(1 + K) + 1 + k). */
  private readonly shadows: THREE.InstancedMesh;
  private readonly highlight: THREE.LineSegments;
  private readonly stageColorsRgb: THREE.Color[];
  /** [M] colour of each goal part when not reached. */
  private readonly goalColorsRgb: THREE.Color[];
  private readonly goalReachedRgb = new THREE.Color(GOAL_REACHED_COLOR);
  private readonly lastStage: Int32Array;
  /** [N, M] 1 where the part was drawn as reached, 0 where not, 255 before the first frame. */
  private readonly lastReached: Uint8Array;
  /** The camera, gliding to the focused env or the overview. */
  private readonly rig: SceneCamera;
  private readonly raycaster = new THREE.Raycaster();
  private readonly tablePlane: THREE.Plane;
  /** Scratch: the table-plane hit of a pick, and the camera's target in focus (world frame). */
  private readonly hit = new THREE.Vector3();
  private readonly target = new THREE.Vector3();
  private disposed = false;

  /** Builds the scene of N envs of a task drawn by `renderer` (which the caller owns and may reuse). */
  constructor(renderer: THREE.WebGLRenderer, task: TaskDef, numEnvs: number, numStages: number) {
    this.task = task;
    this.numEnvs = numEnvs;
    this.numStages = numStages;
    const table = task.scene.table, objects = task.scene.objects;
    this.numObjects = objects.length;
    if (task.goalDim % 3 !== 0) throw new Error(`view: task ${task.name} has goalDim ${task.goalDim}, not a multiple of 3`);
    this.numGoals = task.goalDim / 3;
    this.renderer = renderer;
    this.scene.background = new THREE.Color('#1c212b');

    // Layout.
    const side = Math.ceil(Math.sqrt(numEnvs));
    this.side = side;
    this.center = [table.center[0], table.center[1]];
    this.cellX = Math.max(VIEW_SPACING, 2 * table.half[0] + VIEW_MARGIN);
    this.cellY = Math.max(VIEW_SPACING, 2 * table.half[1] + VIEW_MARGIN);
    this.origins = new Float32Array(numEnvs * 3);
    for (let i = 0; i < numEnvs; i++) {
      const cx = i % side, cy = Math.floor(i / side);
      this.origins[3 * i] = (cx - (side - 1) / 2) * this.cellX;
      this.origins[3 * i + 1] = -(cy - (side - 1) / 2) * this.cellY;
    }
    const grid = new THREE.GridHelper(side, side, '#3c4456', '#3c4456');
    grid.scale.set(this.cellX, 1, this.cellY); // local (x, z) → world (x, −y) after the turn below
    grid.rotation.x = Math.PI / 2;
    grid.position.z = 0.001;
    this.scene.add(grid);
    this.tablePlane = new THREE.Plane(new THREE.Vector3(0, 0, 1), -table.topZ);

    // Boxes and cylinders, one mesh per shape; every instance is rewritten each frame.
    const numBoxObjects = objects.filter((o) => o.shape === 'box').length;
    const numCylinders = objects.length - numBoxObjects;
    const unit = new THREE.BoxGeometry(1, 1, 1);
    this.boxes = this.instanced(unit, instanceLit(), (4 + numBoxObjects) * numEnvs);
    let puck: THREE.InstancedMesh | null = null;
    if (numCylinders > 0) {
      // A unit cylinder (diameter 1, height 1) turned from three's y axis to z: an upright puck.
      const g = new THREE.CylinderGeometry(0.5, 0.5, 1, 28);
      g.rotateX(Math.PI / 2);
      puck = this.instanced(g, instanceLit(), numCylinders * numEnvs);
    }
    this.cylinders = puck;
    this.objectMesh = [];
    this.objectFirst = new Int32Array(objects.length);
    let nb = 0, nc = 0;
    objects.forEach((o, k) => {
      if (o.shape === 'box') { this.objectMesh.push(this.boxes); this.objectFirst[k] = (4 + nb++) * numEnvs; }
      else { this.objectMesh.push(puck!); this.objectFirst[k] = nc++ * numEnvs; }
    });
    const objectRgb = objects.map((_, k) => new THREE.Color(objectColor(k)));
    for (let i = 0; i < numEnvs; i++) {
      this.boxes.setColorAt(i, TABLE_COLOR);
      this.boxes.setColorAt(numEnvs + i, PALM_COLOR);
      this.boxes.setColorAt(2 * numEnvs + 2 * i, FINGER_COLOR);
      this.boxes.setColorAt(2 * numEnvs + 2 * i + 1, FINGER_COLOR);
      for (let k = 0; k < objects.length; k++) this.objectMesh[k].setColorAt(this.objectFirst[k] + i, objectRgb[k]);
    }

    // Goals (one marker per 3-D part of the goal) and stage markers.
    const M = this.numGoals;
    const goalMaterial = new THREE.MeshBasicMaterial({ color: '#ffffff', vertexColors: true, transparent: true, depthWrite: false });
    this.goals = this.instanced(goalGeometry(task.distanceThreshold), goalMaterial, numEnvs * M);
    this.goals.renderOrder = 2;
    this.goalColorsRgb = Array.from({ length: M }, (_, j) => (j < objects.length ? objectRgb[j].clone() : new THREE.Color(GOAL_COLOR)));
    this.markers = this.instanced(new THREE.OctahedronGeometry(STAGE_MARKER_RADIUS), new THREE.MeshBasicMaterial({ color: '#ffffff' }), numEnvs);
    this.stageColorsRgb = Array.from({ length: numStages + 1 }, (_, k) => new THREE.Color(stageColor(k, numStages)));
    this.lastStage = new Int32Array(numEnvs).fill(-1);
    this.lastReached = new Uint8Array(numEnvs * M).fill(255);
    for (let i = 0; i < numEnvs; i++) {
      for (let j = 0; j < M; j++) this.goals.setColorAt(i * M + j, this.goalColorsRgb[j]);
      this.markers.setColorAt(i, this.stageColorsRgb[0]);
    }

    // Blob shadows: a dark disc on the table top under each gripper and object, smaller as it rises, so that height
    // reads at a glance (a shadow-mapped light costs a software rasterizer far more).
    const shadowMaterial = new THREE.MeshBasicMaterial({ color: '#000000', transparent: true, opacity: SHADOW_OPACITY, depthWrite: false });
    this.shadows = this.instanced(new THREE.CircleGeometry(1, 24), shadowMaterial, numEnvs * (1 + objects.length));
    this.shadows.renderOrder = 1;

    // The focused env's outline.
    const hx = this.cellX * 0.48, hy = this.cellY * 0.48;
    const ring = new THREE.BufferGeometry().setFromPoints([[-hx, -hy], [hx, -hy], [hx, -hy], [hx, hy], [hx, hy], [-hx, hy], [-hx, hy], [-hx, -hy]].map(([x, y]) => new THREE.Vector3(x, y, 0)));
    this.highlight = new THREE.LineSegments(ring, new THREE.LineBasicMaterial({ color: '#ffe066' }));
    this.highlight.visible = false;
    this.scene.add(this.highlight);

    this.rig = new SceneCamera(renderer.domElement, table, side * Math.max(this.cellX, this.cellY));
  }

  private instanced(geometry: THREE.BufferGeometry, material: THREE.Material, count: number): THREE.InstancedMesh {
    const mesh = new THREE.InstancedMesh(geometry, material, count);
    mesh.instanceMatrix.setUsage(THREE.DynamicDrawUsage);
    // Instances move anywhere within their cells; three's per-mesh bounds would cull by the first frame's.
    mesh.frustumCulled = false;
    this.scene.add(mesh);
    return mesh;
  }

  /** World position of env i's local point (x, y, z). */
  toWorld(i: number, x: number, y: number, z: number): [number, number, number] {
    return [this.origins[3 * i] + x - this.center[0], this.origins[3 * i + 1] + y - this.center[1], z];
  }

  /** Moves every instance to the state in `f`; throws when its views do not fit the task and N. */
  update(f: SceneFrame): void {
    const N = this.numEnvs, K = this.numObjects, M = this.numGoals, G = 3 * M, org = this.origins;
    const B = 1 + K, P = B * POSE_WIDTH;
    if (f.bodyPose.length !== N * P || f.fingerPos.length !== 2 * N || f.desiredGoal.length !== N * G || f.achievedGoal.length !== N * G || f.sceneParams.length % N !== 0) {
      throw new Error(`view: frame views do not fit ${N} envs of ${this.task.name} (bodyPose ${f.bodyPose.length}, want ${N * P}; desiredGoal ${f.desiredGoal.length}, want ${N * G})`);
    }
    const S = f.sceneParams.length / N;
    const table = this.task.scene.table, objects = this.task.scene.objects;
    const cx = this.center[0], cy = this.center[1];
    const box = this.boxes.instanceMatrix.array as Float32Array;
    const goal = this.goals.instanceMatrix.array as Float32Array;
    const marker = this.markers.instanceMatrix.array as Float32Array;
    const shadow = this.shadows.instanceMatrix.array as Float32Array;
    const palmAt = 16 * N, fingerAt = 32 * N;
    const tx = 2 * table.half[0], ty = 2 * table.half[1], tz = 2 * table.half[2];
    const px = 2 * PALM_HALF[0], py = 2 * PALM_HALF[1], pz = 2 * PALM_HALF[2];
    const fx = 2 * FINGER_HALF[0], fy = 2 * FINGER_HALF[1], fz = 2 * FINGER_HALF[2];
    const fingerY = FINGER_HALF[1] + FINGER_GAP0;
    const r2 = this.task.distanceThreshold * this.task.distanceThreshold;
    let colorsChanged = false, goalColorsChanged = false;
    for (let i = 0; i < N; i++) {
      const ox = org[3 * i] - cx, oy = org[3 * i + 1] - cy;
      // TABLE (its top moves with the episode's height offset)
      const dz = S > P_TABLE_DZ ? f.sceneParams[i * S + P_TABLE_DZ] : 0;
      writeBox(box, 16 * i, tx, ty, tz, org[3 * i], org[3 * i + 1], table.topZ + dz - table.half[2]);
      // GRIPPER
      const p = i * P;
      const gx = f.bodyPose[p] + ox, gy = f.bodyPose[p + 1] + oy, gz = f.bodyPose[p + 2];
      const top = table.topZ + dz;
      writeShadow(shadow, 16 * i * B, GRIPPER_SHADOW_RADIUS, gx, gy, gz - top, top);
      writeBox(box, palmAt + 16 * i, px, py, pz, gx, gy, gz + PALM_OFFSET_Z);
      writeBox(box, fingerAt + 32 * i, fx, fy, fz, gx, gy + fingerY + f.fingerPos[2 * i], gz + FINGER_OFFSET_Z);
      writeBox(box, fingerAt + 32 * i + 16, fx, fy, fz, gx, gy - fingerY - f.fingerPos[2 * i + 1], gz + FINGER_OFFSET_Z);
      // OBJECTS
      for (let k = 0; k < K; k++) {
        const q = p + (1 + k) * POSE_WIDTH, h = objects[k].halfExtents;
        const sp = objectParam(k) + PO_SCALE;
        const s = 2 * (S > sp ? f.sceneParams[i * S + sp] : 1);
        const m = this.objectMesh[k].instanceMatrix.array as Float32Array;
        writePose(m, 16 * (this.objectFirst[k] + i), s * h[0], s * h[1], s * h[2],
          f.bodyPose[q + 3], f.bodyPose[q + 4], f.bodyPose[q + 5], f.bodyPose[q + 6], f.bodyPose[q] + ox, f.bodyPose[q + 1] + oy, f.bodyPose[q + 2]);
        writeShadow(shadow, 16 * (i * B + 1 + k), 0.6 * s * Math.hypot(h[0], h[1]), f.bodyPose[q] + ox, f.bodyPose[q + 1] + oy, f.bodyPose[q + 2] - 0.5 * s * h[2] - top, top);
      }
      // GOALS (each part green while its achieved part is within the success radius)
      for (let j = 0; j < M; j++) {
        const d = i * G + 3 * j, at = i * M + j;
        writeBox(goal, 16 * at, 1, 1, 1, f.desiredGoal[d] + ox, f.desiredGoal[d + 1] + oy, f.desiredGoal[d + 2]);
        const ex = f.achievedGoal[d] - f.desiredGoal[d], ey = f.achievedGoal[d + 1] - f.desiredGoal[d + 1], ez = f.achievedGoal[d + 2] - f.desiredGoal[d + 2];
        const reached = ex * ex + ey * ey + ez * ez < r2 ? 1 : 0;
        if (reached !== this.lastReached[at]) {
          this.lastReached[at] = reached;
          this.goals.setColorAt(at, reached ? this.goalReachedRgb : this.goalColorsRgb[j]);
          goalColorsChanged = true;
        }
      }
      // STAGE MARKERS
      writeBox(marker, 16 * i, 1, 1, 1, f.stageTargets[3 * i] + ox, f.stageTargets[3 * i + 1] + oy, f.stageTargets[3 * i + 2]);
      const k = Math.min(this.numStages, Math.max(0, f.stage[i]));
      if (k !== this.lastStage[i]) {
        this.lastStage[i] = k;
        this.markers.setColorAt(i, this.stageColorsRgb[k]);
        colorsChanged = true;
      }
    }
    this.boxes.instanceMatrix.needsUpdate = true;
    if (this.cylinders) this.cylinders.instanceMatrix.needsUpdate = true;
    this.goals.instanceMatrix.needsUpdate = true;
    this.markers.instanceMatrix.needsUpdate = true;
    this.shadows.instanceMatrix.needsUpdate = true;
    if (colorsChanged && this.markers.instanceColor) this.markers.instanceColor.needsUpdate = true;
    if (goalColorsChanged && this.goals.instanceColor) this.goals.instanceColor.needsUpdate = true;
  }

  /** Follows env i with the camera (null: back to the overview of every env). */
  setFocus(i: number | null): void {
    if (i !== null && !(Number.isInteger(i) && i >= 0 && i < this.numEnvs)) throw new Error(`view: no env ${i} (0..${this.numEnvs - 1})`);
    this.focus = i;
    this.rig.glideTo(i !== null);
    this.highlight.visible = i !== null;
  }

  /** The env whose cell lies under canvas pixel (x, y) (CSS pixels from the canvas's top left), or null. */
  pick(x: number, y: number): number | null {
    const el = this.renderer.domElement;
    const ndc = new THREE.Vector2((2 * x) / el.clientWidth - 1, 1 - (2 * y) / el.clientHeight);
    this.raycaster.setFromCamera(ndc, this.rig.camera);
    const hit = this.raycaster.ray.intersectPlane(this.tablePlane, this.hit);
    if (!hit) return null;
    const half = (this.side - 1) / 2;
    const cx = Math.round(hit.x / this.cellX + half), cy = Math.round(-hit.y / this.cellY + half);
    if (cx < 0 || cy < 0 || cx >= this.side || cy >= this.side) return null;
    const i = cy * this.side + cx;
    return i < this.numEnvs ? i : null;
  }

  /** Resizes the drawing buffer to the canvas's CSS size. */
  resize(): void {
    const el = this.renderer.domElement;
    const w = Math.max(1, el.clientWidth), h = Math.max(1, el.clientHeight);
    const size = this.renderer.getSize(new THREE.Vector2());
    if (size.x === w && size.y === h) return;
    this.renderer.setSize(w, h, false);
    this.rig.setAspect(w / h);
  }

  /**
   * Where the camera looks in env i (world frame): the mean of the grip site, the objects and the goal parts as
   * last drawn, so that the grasp and a goal in the air both stay in view.
   */
  private focusPoint(i: number, out: THREE.Vector3): THREE.Vector3 {
    const N = this.numEnvs, M = this.numGoals;
    const box = this.boxes.instanceMatrix.array as Float32Array, goal = this.goals.instanceMatrix.array as Float32Array;
    const palm = 16 * (N + i);
    out.set(box[palm + 12], box[palm + 13], box[palm + 14] - PALM_OFFSET_Z);
    for (let k = 0; k < this.numObjects; k++) {
      const m = this.objectMesh[k].instanceMatrix.array as Float32Array, o = 16 * (this.objectFirst[k] + i);
      out.x += m[o + 12]; out.y += m[o + 13]; out.z += m[o + 14];
    }
    for (let j = 0; j < M; j++) {
      const o = 16 * (i * M + j);
      out.x += goal[o + 12]; out.y += goal[o + 13]; out.z += goal[o + 14];
    }
    return out.multiplyScalar(1 / (1 + this.numObjects + M));
  }

  /** Moves the camera toward the focused env (or the overview) and draws a frame; `now` in ms. */
  render(now = performance.now()): void {
    this.resize();
    let target: THREE.Vector3 | null = null;
    if (this.focus !== null) {
      const i = this.focus;
      target = this.focusPoint(i, this.target);
      this.highlight.position.set(this.origins[3 * i], this.origins[3 * i + 1], 0.003);
    }
    this.rig.follow(target, now);
    this.renderer.render(this.scene, this.rig.camera);
  }

  /**
   * Draw calls of the last frame, constant in N: boxes, goals, stage markers and grid (4), one more in a scene with
   * cylinder objects (Slide), and the outline in focus.
   */
  get drawCalls(): number {
    return this.renderer.info.render.calls;
  }

  /**
   * Env-local positions [N, 3] and colours [N, 3] (linear RGB) of the stage markers as drawn, read back
   * from the instance buffers (for tests).
   */
  markerState(): { positions: number[]; colors: number[] } {
    const m = this.markers.instanceMatrix.array as Float32Array;
    const positions: number[] = [], colors: number[] = [];
    const c = this.markers.instanceColor?.array as Float32Array | undefined;
    for (let i = 0; i < this.numEnvs; i++) {
      positions.push(m[16 * i + 12] - this.origins[3 * i] + this.center[0], m[16 * i + 13] - this.origins[3 * i + 1] + this.center[1], m[16 * i + 14]);
      colors.push(c ? c[3 * i] : 1, c ? c[3 * i + 1] : 1, c ? c[3 * i + 2] : 1);
    }
    return { positions, colors };
  }

  /** Every instance matrix and colour as drawn (for tests). */
  instances(): SceneInstances {
    const N = this.numEnvs, M = this.numGoals;
    const box = this.boxes.instanceMatrix.array as Float32Array;
    const slice = (a: ArrayLike<number> | undefined, from: number, count: number) => (a ? Array.from({ length: count }, (_, k) => a[from + k]) : []);
    return {
      tables: slice(box, 0, 16 * N),
      palms: slice(box, 16 * N, 16 * N),
      fingers: slice(box, 32 * N, 32 * N),
      objects: this.task.scene.objects.map((o, k) => {
        const mesh = this.objectMesh[k], first = this.objectFirst[k];
        return {
          name: o.name, shape: o.shape,
          matrices: slice(mesh.instanceMatrix.array as Float32Array, 16 * first, 16 * N),
          colors: slice(mesh.instanceColor?.array as Float32Array | undefined, 3 * first, 3 * N),
        };
      }),
      goals: slice(this.goals.instanceMatrix.array as Float32Array, 0, 16 * N * M),
      goalColors: slice(this.goals.instanceColor?.array as Float32Array | undefined, 0, 3 * N * M),
    };
  }

  /** Frees the scene's geometries, materials and controls (not the renderer); MUST be called before the scene is dropped. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.rig.dispose();
    this.scene.traverse((o) => {
      const mesh = o as THREE.Mesh;
      if (mesh.geometry) mesh.geometry.dispose();
      const mat = mesh.material as THREE.Material | THREE.Material[] | undefined;
      if (Array.isArray(mat)) mat.forEach((x) => x.dispose());
      else mat?.dispose();
      if (o instanceof THREE.InstancedMesh) o.dispose();
    });
  }
}
