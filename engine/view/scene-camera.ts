/**
 * The scene's camera: an orbit camera (z up) over the env grid that glides to a focused env's preset distance and
 * direction, or back to the overview of every env, until the user orbits or zooms.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { TABLE_HALF } from '../physics/fetch-scene.ts';

/** Camera distance from the focused env's grip, objects and goals (EnvScene.focusPoint), metres; more for a table longer than the Fetch table. */
const FOCUS_DISTANCE = 0.9;
/**
 * Directions from the target to the camera: the overview's, and the focused env's (lower, to see the gripper, and
 * from −x, across the fingers' y axis, so that both fingers show beside a grasped object).
 */
const OVERVIEW_DIR = new THREE.Vector3(0, -0.62, 0.78).normalize();
const FOCUS_DIR = new THREE.Vector3(-0.6, -0.25, 0.76).normalize();
/** Time constant of the camera's glide to a new focus, seconds. */
const GLIDE_SECONDS = 0.15;

export class SceneCamera {
  readonly camera = new THREE.PerspectiveCamera(40, 1, 0.05, 500);
  readonly controls: OrbitControls;
  /** Point the overview looks at (the grid's centre at table height, world frame) and its distance, metres. */
  private readonly overviewTarget: THREE.Vector3;
  private readonly overviewDistance: number;
  /** Distance from a focused env's focus point, metres. */
  private readonly focusDistance: number;
  /** Distance the camera glides to (focus or overview), or null once reached or taken over by the user. */
  private glideDistance: number | null = null;
  /** Direction (unit) the camera glides to around its target, or null once reached or taken over by the user. */
  private glideDir: THREE.Vector3 | null = null;
  /** Time of the last follow, ms (0 before the first). */
  private lastFollow = 0;
  private readonly tmp = new THREE.Vector3();

  /**
   * A camera over a grid `gridSpan` metres across (cells per row × the larger cell size) of tables `table`
   * (half extents and top height, metres), looking at the whole grid; the canvas takes the orbit controls.
   */
  constructor(canvas: HTMLElement, table: { half: readonly number[]; topZ: number }, gridSpan: number) {
    this.camera.up.set(0, 0, 1);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.enableDamping = false;
    this.controls.addEventListener('start', () => { this.glideDistance = null; this.glideDir = null; });
    // The focus distance grows with a table longer than the Fetch table (Slide's).
    this.focusDistance = FOCUS_DISTANCE * Math.max(1, Math.max(table.half[0], table.half[1]) / Math.max(TABLE_HALF[0], TABLE_HALF[1]));
    this.overviewTarget = new THREE.Vector3(0, 0, table.topZ);
    this.overviewDistance = Math.max(2.2, gridSpan * 1.55);
    this.controls.target.copy(this.overviewTarget);
    this.camera.position.copy(this.overviewTarget).addScaledVector(OVERVIEW_DIR, this.overviewDistance);
    this.controls.update();
  }

  /** Starts the glide to the focus preset (focused) or back to the overview. */
  glideTo(focused: boolean): void {
    this.glideDistance = focused ? this.focusDistance : this.overviewDistance;
    this.glideDir = focused ? FOCUS_DIR : OVERVIEW_DIR;
  }

  /**
   * Moves the camera toward `target` (world frame; null: the overview's) by the time since the last call, `now`
   * in ms. Time constant GLIDE_SECONDS: the target follows the focused env's grip, objects and goals, the camera
   * moves with it, and after a focus change it also swings to the preset distance and direction until it gets
   * there or the user orbits or zooms (then the user's view is kept and only translated).
   */
  follow(target: THREE.Vector3 | null, now: number): void {
    const to = target ?? this.overviewTarget;
    const dt = this.lastFollow ? Math.min(0.25, (now - this.lastFollow) / 1000) : 0;
    this.lastFollow = now;
    const a = 1 - Math.exp(-dt / GLIDE_SECONDS);
    const d = this.tmp.copy(to).sub(this.controls.target).multiplyScalar(a);
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
  }

  /** Sets the aspect ratio (width / height) of the drawing buffer. */
  setAspect(aspect: number): void {
    this.camera.aspect = aspect;
    this.camera.updateProjectionMatrix();
  }

  /** Detaches the orbit controls from the canvas. */
  dispose(): void {
    this.controls.dispose();
  }
}
