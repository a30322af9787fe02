/**
 * The three.js scene of a batch of Fetch-style envs, drawn with a constant number of draw calls whatever N:
 * one InstancedMesh holds every box (tables, palms, fingers, cubes: a unit cube scaled per instance, with
 * per-instance colours), one the goal markers (translucent spheres of the success radius), one the stage
 * markers, plus the floor grid and the focused env's outline. Draw calls, not triangles or pixels, are what
 * cost most in software WebGL (ANGLE on SwiftShader measured ~4 ms per extra instanced draw on 2 cores),
 * so the kinds share one mesh where they share a shape.
 *
 * World frame (z up): env i sits in cell (i mod side, ⌊i / side⌋) of a square grid of side ⌈√N⌉ cells
 * VIEW_SPACING metres apart, with the env-local point (TABLE_CENTER, 0) at the cell's centre. This is the
 * view's own layout, not the physics grid (which spaces envs 3 m apart); positions come from the batch
 * (env-local, metres), so the two never need to agree.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import {
  CUBE_HALF, FINGER_CLOSED_Y, FINGER_HALF, FINGER_OFFSET_Z, PALM_HALF, PALM_OFFSET_Z, TABLE_CENTER, TABLE_HALF, TABLE_TOP_Z,
} from '../physics/fetch-scene.ts';
import type { TaskDef } from '../../tasks/task.ts';

/** Distance between neighbouring env cells in the view, metres. */
export const VIEW_SPACING = 1.1;
/** Radius of a stage marker, metres. */
export const STAGE_MARKER_RADIUS = 0.02;
/** Colours of stages 0, 1, ... (cycled); the "all stages done" colour is STAGE_DONE_COLOR. */
export const STAGE_COLORS = ['#ff9f1c', '#e05cff', '#ffe14d', '#4de3e3', '#ff8fab', '#b0b0ff', '#c7f464', '#ffffff'] as const;
export const STAGE_DONE_COLOR = '#47d16c';
const GOAL_COLOR = new THREE.Color('#ff4d4d');
const GOAL_REACHED_COLOR = new THREE.Color('#47d16c');
/** Camera distance from the focused env's table, metres. */
const FOCUS_DISTANCE = 2.0;
/** Directions from the target to the camera: the overview's, and the focused env's (lower, to see the gripper). */
const OVERVIEW_DIR = new THREE.Vector3(0, -0.62, 0.78).normalize();
const FOCUS_DIR = new THREE.Vector3(0.25, -0.8, 0.55).normalize();

/** The colour of stage k of a K-stage spec (k = K: every stage done). */
export function stageColor(k: number, numStages: number): string {
  return k >= numStages ? STAGE_DONE_COLOR : STAGE_COLORS[Math.max(0, k) % STAGE_COLORS.length];
}

/** What the scene draws each frame, as views of the batch (env-local metres). */
export interface SceneFrame {
  /** [N, obsDim] observations. */
  obs: Float32Array;
  /** [N, 3] desired goals. */
  desiredGoal: Float32Array;
  /** [N, 3] target of each env's current stage. */
  stageTargets: Float32Array;
  /** [N] current stage. */
  stage: Int32Array;
  /** [N] 1 where the last transition reached the goal. */
  success: Uint8Array;
}

function obsField(task: TaskDef, name: string): number {
  const f = task.obsLayout.find((x) => x[0] === name);
  return f ? f[1] : -1;
}

/** Direction the baked light comes from (unit, world frame), and the ambient share. */
const LIGHT_DIR = new THREE.Vector3(-0.35, -0.55, 0.76).normalize();
const AMBIENT = 0.42;

/**
 * Bakes directional plus ambient light into grey per-vertex colours and returns an unlit material that
 * multiplies them by each instance's colour: an unlit shader is the cheapest a software rasterizer can run.
 * Instances are only translated, scaled, or rotated a little (cubes), so light baked in the model frame reads right.
 */
function bakeLit(geometry: THREE.BufferGeometry): THREE.MeshBasicMaterial {
  const n = geometry.getAttribute('normal');
  const out = new Float32Array(n.count * 3);
  for (let v = 0; v < n.count; v++) {
    const l = AMBIENT + (1 - AMBIENT) * Math.max(0, n.getX(v) * LIGHT_DIR.x + n.getY(v) * LIGHT_DIR.y + n.getZ(v) * LIGHT_DIR.z);
    out[3 * v] = l; out[3 * v + 1] = l; out[3 * v + 2] = l;
  }
  geometry.setAttribute('color', new THREE.BufferAttribute(out, 3));
  return new THREE.MeshBasicMaterial({ vertexColors: true });
}

/** Writes the 4×4 matrix (column-major) of an axis-aligned scale (sx, sy, sz) then translation (x, y, z) at m[o]. */
function writeBox(m: Float32Array, o: number, sx: number, sy: number, sz: number, x: number, y: number, z: number): void {
  m[o] = sx; m[o + 1] = 0; m[o + 2] = 0; m[o + 3] = 0;
  m[o + 4] = 0; m[o + 5] = sy; m[o + 6] = 0; m[o + 7] = 0;
  m[o + 8] = 0; m[o + 9] = 0; m[o + 10] = sz; m[o + 11] = 0;
  m[o + 12] = x; m[o + 13] = y; m[o + 14] = z; m[o + 15] = 1;
}

/**
 * Writes the matrix of a uniform scale s, then R = Rz(yaw) · Ry(pitch) · Rx(roll) (the rotation whose XYZ
 * Euler triple tasks/task.ts quatToEuler returns), then translation (x, y, z), column-major, at m[o].
 */
function writeEulerZYX(m: Float32Array, o: number, s: number, roll: number, pitch: number, yaw: number, x: number, y: number, z: number): void {
  const cr = Math.cos(roll), sr = Math.sin(roll), cp = Math.cos(pitch), sp = Math.sin(pitch), cy = Math.cos(yaw), sy = Math.sin(yaw);
  m[o] = s * cy * cp; m[o + 1] = s * sy * cp; m[o + 2] = -s * sp; m[o + 3] = 0;
  m[o + 4] = s * (cy * sp * sr - sy * cr); m[o + 5] = s * (sy * sp * sr + cy * cr); m[o + 6] = s * cp * sr; m[o + 7] = 0;
  m[o + 8] = s * (cy * sp * cr + sy * sr); m[o + 9] = s * (sy * sp * cr - cy * sr); m[o + 10] = s * cp * cr; m[o + 11] = 0;
  m[o + 12] = x; m[o + 13] = y; m[o + 14] = z; m[o + 15] = 1;
}

/** Box colours by kind. */
const TABLE_COLOR = new THREE.Color('#9a7650');
const PALM_COLOR = new THREE.Color('#d5dae4');
const FINGER_COLOR = new THREE.Color('#8f9ab0');
const CUBE_COLOR = new THREE.Color('#4a86ff');

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
  readonly camera: THREE.PerspectiveCamera;
  readonly controls: OrbitControls;
  readonly numEnvs: number;
  readonly numStages: number;
  /** Cells per grid row. */
  readonly side: number;
  /** [N, 3] world position of each env's local point (TABLE_CENTER, 0), m. */
  readonly origins: Float32Array;
  /** Env the camera follows, or null. */
  focus: number | null = null;
  private readonly task: TaskDef;
  private readonly meshes: THREE.InstancedMesh[] = [];
  /**
   * Every box, by instance range: tables [0, N), palms [N, 2N), fingers [2N, 4N) (env i's at 2N + 2i and
   * 2N + 2i + 1), cubes [4N, 5N) when the task has one.
   */
  private readonly boxes: THREE.InstancedMesh;
  private readonly goals: THREE.InstancedMesh;
  private readonly markers: THREE.InstancedMesh;
  private readonly highlight: THREE.LineSegments;
  private readonly stageColorsRgb: THREE.Color[];
  private readonly gripAt: number;
  private readonly objectAt: number;
  private readonly rotAt: number;
  private readonly lastStage: Int32Array;
  private readonly lastSuccess: Uint8Array;
  private readonly overviewTarget = new THREE.Vector3();
  private overviewDistance = 1;
  /** Distance the camera glides to (focus or overview), or null once reached or taken over by the user. */
  private glideDistance: number | null = null;
  /** Direction (unit) the camera glides to around its target, or null once reached or taken over by the user. */
  private glideDir: THREE.Vector3 | null = null;
  private readonly raycaster = new THREE.Raycaster();
  private readonly tablePlane = new THREE.Plane(new THREE.Vector3(0, 0, 1), -TABLE_TOP_Z);
  private readonly tmp = new THREE.Vector3();
  private readonly tmp2 = new THREE.Vector3();
  private disposed = false;

  /** Builds the scene of N envs of a task drawn by `renderer` (which the caller owns and may reuse). */
  constructor(renderer: THREE.WebGLRenderer, task: TaskDef, numEnvs: number, numStages: number) {
    this.task = task;
    this.numEnvs = numEnvs;
    this.numStages = numStages;
    this.gripAt = obsField(task, 'grip_pos');
    this.objectAt = (task.scene.objects.length > 0) ? obsField(task, 'object_pos') : -1;
    this.rotAt = (task.scene.objects.length > 0) ? obsField(task, 'object_rot') : -1;
    if (this.gripAt < 0) throw new Error(`view: task ${task.name} has no grip_pos in its observation layout`);
    this.renderer = renderer;
    const canvas = renderer.domElement;
    this.scene.background = new THREE.Color('#1c212b');
    this.camera = new THREE.PerspectiveCamera(40, 1, 0.05, 500);
    this.camera.up.set(0, 0, 1);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.enableDamping = false;
    this.controls.addEventListener('start', () => { this.glideDistance = null; this.glideDir = null; });


    // Layout.
    const side = Math.ceil(Math.sqrt(numEnvs));
    this.side = side;
    this.origins = new Float32Array(numEnvs * 3);
    for (let i = 0; i < numEnvs; i++) {
      const cx = i % side, cy = Math.floor(i / side);
      this.origins[3 * i] = (cx - (side - 1) / 2) * VIEW_SPACING;
      this.origins[3 * i + 1] = -(cy - (side - 1) / 2) * VIEW_SPACING;
    }
    const extent = side * VIEW_SPACING;
    const grid = new THREE.GridHelper(side * VIEW_SPACING, side, '#3c4456', '#3c4456');
    grid.rotation.x = Math.PI / 2;
    grid.position.z = 0.001;
    this.scene.add(grid);

    // Boxes: one mesh for every kind; tables never move, the rest is rewritten each frame.
    const unit = new THREE.BoxGeometry(1, 1, 1);
    this.boxes = this.instanced(unit, bakeLit(unit), ((task.scene.objects.length > 0) ? 5 : 4) * numEnvs);
    const bm = this.boxes.instanceMatrix.array as Float32Array;
    for (let i = 0; i < numEnvs; i++) {
      const [x, y, z] = this.toWorld(i, TABLE_CENTER[0], TABLE_CENTER[1], TABLE_TOP_Z - TABLE_HALF[2]);
      writeBox(bm, 16 * i, 2 * TABLE_HALF[0], 2 * TABLE_HALF[1], 2 * TABLE_HALF[2], x, y, z);
      this.boxes.setColorAt(i, TABLE_COLOR);
      this.boxes.setColorAt(numEnvs + i, PALM_COLOR);
      this.boxes.setColorAt(2 * numEnvs + 2 * i, FINGER_COLOR);
      this.boxes.setColorAt(2 * numEnvs + 2 * i + 1, FINGER_COLOR);
      if ((task.scene.objects.length > 0)) this.boxes.setColorAt(4 * numEnvs + i, CUBE_COLOR);
    }
    const goalMaterial = new THREE.MeshBasicMaterial({ color: '#ffffff', transparent: true, opacity: 0.38, depthWrite: false });
    this.goals = this.instanced(new THREE.IcosahedronGeometry(task.distanceThreshold, 1), goalMaterial, numEnvs);
    this.goals.renderOrder = 2;
    this.markers = this.instanced(new THREE.OctahedronGeometry(STAGE_MARKER_RADIUS), new THREE.MeshBasicMaterial({ color: '#ffffff' }), numEnvs);
    this.stageColorsRgb = Array.from({ length: numStages + 1 }, (_, k) => new THREE.Color(stageColor(k, numStages)));
    this.lastStage = new Int32Array(numEnvs).fill(-1);
    this.lastSuccess = new Uint8Array(numEnvs).fill(255);
    for (let i = 0; i < numEnvs; i++) {
      this.goals.setColorAt(i, GOAL_COLOR);
      this.markers.setColorAt(i, this.stageColorsRgb[0]);
    }

    // The focused env's outline.
    const h = VIEW_SPACING * 0.48;
    const ring = new THREE.BufferGeometry().setFromPoints([[-h, -h], [h, -h], [h, -h], [h, h], [h, h], [-h, h], [-h, h], [-h, -h]].map(([x, y]) => new THREE.Vector3(x, y, 0)));
    this.highlight = new THREE.LineSegments(ring, new THREE.LineBasicMaterial({ color: '#ffe066' }));
    this.highlight.visible = false;
    this.scene.add(this.highlight);

    // Overview camera.
    this.overviewTarget.set(0, 0, TABLE_TOP_Z);
    this.overviewDistance = Math.max(2.2, extent * 1.55);
    this.controls.target.copy(this.overviewTarget);
    this.camera.position.copy(this.overviewTarget).addScaledVector(OVERVIEW_DIR, this.overviewDistance);
    this.controls.update();
  }

  private instanced(geometry: THREE.BufferGeometry, material: THREE.Material, count: number): THREE.InstancedMesh {
    const mesh = new THREE.InstancedMesh(geometry, material, count);
    mesh.instanceMatrix.setUsage(THREE.DynamicDrawUsage);
    // Instances move anywhere within their cells; three's per-mesh bounds would cull by the first frame's.
    mesh.frustumCulled = false;
    this.scene.add(mesh);
    this.meshes.push(mesh);
    return mesh;
  }

  /** World position of env i's local point (x, y, z). */
  toWorld(i: number, x: number, y: number, z: number): [number, number, number] {
    return [this.origins[3 * i] + x - TABLE_CENTER[0], this.origins[3 * i + 1] + y - TABLE_CENTER[1], z];
  }

  /** Moves every instance to the state in `f`. */
  update(f: SceneFrame): void {
    const N = this.numEnvs, O = this.task.obsDim, org = this.origins;
    const cx = TABLE_CENTER[0], cy = TABLE_CENTER[1];
    const box = this.boxes.instanceMatrix.array as Float32Array;
    const goal = this.goals.instanceMatrix.array as Float32Array;
    const marker = this.markers.instanceMatrix.array as Float32Array;
    const palmAt = 16 * N, fingerAt = 32 * N, cubeAt = this.objectAt >= 0 ? 64 * N : -1;
    const px = 2 * PALM_HALF[0], py = 2 * PALM_HALF[1], pz = 2 * PALM_HALF[2];
    const fx = 2 * FINGER_HALF[0], fy = 2 * FINGER_HALF[1], fz = 2 * FINGER_HALF[2];
    let colorsChanged = false, goalColorsChanged = false;
    for (let i = 0; i < N; i++) {
      const ox = org[3 * i] - cx, oy = org[3 * i + 1] - cy;
      const o = i * O, g = this.gripAt;
      const gx = f.obs[o + g] + ox, gy = f.obs[o + g + 1] + oy, gz = f.obs[o + g + 2];
      writeBox(box, palmAt + 16 * i, px, py, pz, gx, gy, gz + PALM_OFFSET_Z);
      writeBox(box, fingerAt + 32 * i, fx, fy, fz, gx, gy + FINGER_CLOSED_Y, gz + FINGER_OFFSET_Z);
      writeBox(box, fingerAt + 32 * i + 16, fx, fy, fz, gx, gy - FINGER_CLOSED_Y, gz + FINGER_OFFSET_Z);
      if (cubeAt >= 0) {
        const p = o + this.objectAt, r = o + this.rotAt;
        writeEulerZYX(box, cubeAt + 16 * i, 2 * CUBE_HALF, f.obs[r], f.obs[r + 1], f.obs[r + 2], f.obs[p] + ox, f.obs[p + 1] + oy, f.obs[p + 2]);
      }
      writeBox(goal, 16 * i, 1, 1, 1, f.desiredGoal[3 * i] + ox, f.desiredGoal[3 * i + 1] + oy, f.desiredGoal[3 * i + 2]);
      writeBox(marker, 16 * i, 1, 1, 1, f.stageTargets[3 * i] + ox, f.stageTargets[3 * i + 1] + oy, f.stageTargets[3 * i + 2]);
      const k = Math.min(this.numStages, Math.max(0, f.stage[i]));
      if (k !== this.lastStage[i]) {
        this.lastStage[i] = k;
        this.markers.setColorAt(i, this.stageColorsRgb[k]);
        colorsChanged = true;
      }
      const s = f.success[i] ? 1 : 0;
      if (s !== this.lastSuccess[i]) {
        this.lastSuccess[i] = s;
        this.goals.setColorAt(i, s ? GOAL_REACHED_COLOR : GOAL_COLOR);
        goalColorsChanged = true;
      }
    }
    this.boxes.instanceMatrix.needsUpdate = true;
    this.goals.instanceMatrix.needsUpdate = true;
    this.markers.instanceMatrix.needsUpdate = true;
    if (colorsChanged && this.markers.instanceColor) this.markers.instanceColor.needsUpdate = true;
    if (goalColorsChanged && this.goals.instanceColor) this.goals.instanceColor.needsUpdate = true;
  }

  /** Follows env i with the camera (null: back to the overview of every env). */
  setFocus(i: number | null): void {
    if (i !== null && !(Number.isInteger(i) && i >= 0 && i < this.numEnvs)) throw new Error(`view: no env ${i} (0..${this.numEnvs - 1})`);
    this.focus = i;
    this.glideDistance = i === null ? this.overviewDistance : FOCUS_DISTANCE;
    this.glideDir = i === null ? OVERVIEW_DIR : FOCUS_DIR;
    this.highlight.visible = i !== null;
  }

  /** The env whose cell lies under canvas pixel (x, y) (CSS pixels from the canvas's top left), or null. */
  pick(x: number, y: number): number | null {
    const el = this.renderer.domElement;
    const ndc = new THREE.Vector2((2 * x) / el.clientWidth - 1, 1 - (2 * y) / el.clientHeight);
    this.raycaster.setFromCamera(ndc, this.camera);
    const hit = this.raycaster.ray.intersectPlane(this.tablePlane, this.tmp);
    if (!hit) return null;
    const half = (this.side - 1) / 2;
    const cx = Math.round(hit.x / VIEW_SPACING + half), cy = Math.round(-hit.y / VIEW_SPACING + half);
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
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
  }

  /** Time constant of the camera's glide to a new focus, seconds. */
  static readonly GLIDE_SECONDS = 0.15;
  private lastRender = 0;

  /** Moves the camera toward the focused env (or the overview) and draws a frame; `now` in ms. */
  render(now = performance.now()): void {
    this.resize();
    const target = this.tmp2;
    if (this.focus === null) target.copy(this.overviewTarget);
    else {
      const i = this.focus;
      target.set(this.origins[3 * i], this.origins[3 * i + 1], TABLE_TOP_Z + 0.05);
      this.highlight.position.set(this.origins[3 * i], this.origins[3 * i + 1], 0.003);
    }
    // Glide (time constant GLIDE_SECONDS): the target follows the focused env, the camera moves with it,
    // and after a focus change it also swings to the preset distance and direction until it gets there or
    // the user orbits or zooms (then the user's view is kept and only translated).
    const dt = this.lastRender ? Math.min(0.25, (now - this.lastRender) / 1000) : 0;
    this.lastRender = now;
    const a = 1 - Math.exp(-dt / EnvScene.GLIDE_SECONDS);
    const d = this.tmp.copy(target).sub(this.controls.target).multiplyScalar(a);
    this.controls.target.add(d);
    this.camera.position.add(d);
    if (this.glideDistance !== null || this.glideDir !== null) {
      const off = this.tmp.copy(this.camera.position).sub(this.controls.target);
      const len = off.length();
      const want = this.glideDistance ?? len;
      const next = len + (want - len) * a;
      off.multiplyScalar(1 / Math.max(1e-6, len));
      if (this.glideDir) off.lerp(this.glideDir, a).normalize();
      this.camera.position.copy(this.controls.target).addScaledVector(off, next);
      if (Math.abs(next - want) < 1e-3 * want && (!this.glideDir || off.distanceTo(this.glideDir) < 1e-3)) {
        this.glideDistance = null;
        this.glideDir = null;
      }
    }
    this.controls.update();
    this.renderer.render(this.scene, this.camera);
  }

  /** Draw calls of the last frame (constant in N: boxes, goals, stage markers, grid, and the outline in focus). */
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
      positions.push(m[16 * i + 12] - this.origins[3 * i] + TABLE_CENTER[0], m[16 * i + 13] - this.origins[3 * i + 1] + TABLE_CENTER[1], m[16 * i + 14]);
      colors.push(c ? c[3 * i] : 1, c ? c[3 * i + 1] : 1, c ? c[3 * i + 2] : 1);
    }
    return { positions, colors };
  }

  /** Frees the scene's geometries, materials and controls (not the renderer); MUST be called before the scene is dropped. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.controls.dispose();
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
