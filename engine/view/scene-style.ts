/**
 * How the view's scene looks: the colours of stages, objects, goals and gripper parts, the instance-lit
 * material every box and cylinder shares, and the goal marker's geometry.
 */
import * as THREE from 'three';
import { mergeGeometries } from 'three/examples/jsm/utils/BufferGeometryUtils.js';

/** Colours of stages 0, 1, ... (cycled); the "all stages done" colour is STAGE_DONE_COLOR. */
export const STAGE_COLORS = ['#ff9f1c', '#e05cff', '#ffe14d', '#4de3e3', '#ff8fab', '#b0b0ff', '#c7f464', '#ffffff'] as const;
export const STAGE_DONE_COLOR = '#47d16c';
/** Colours of objects 0, 1, ... (cycled; Stack's cube A blue, cube B orange); each object's goal takes its colour. */
export const OBJECT_COLORS = ['#4a86ff', '#ff7a2e', '#b36bff', '#f5d33b'] as const;
/** Colour of a goal part without an object (Reach's gripper goal), and of any goal part while it is reached. */
export const GOAL_COLOR = '#ff4d4d';
export const GOAL_REACHED_COLOR = '#47d16c';
/** Box colours by kind. */
export const TABLE_COLOR = new THREE.Color('#9a7650');
export const PALM_COLOR = new THREE.Color('#9aa3b5');
export const FINGER_COLOR = new THREE.Color('#eef1f6');

/** The colour of stage k of a K-stage spec (k = K: every stage done). */
export function stageColor(k: number, numStages: number): string {
  return k >= numStages ? STAGE_DONE_COLOR : STAGE_COLORS[Math.max(0, k) % STAGE_COLORS.length];
}

/** The colour of object k. */
export function objectColor(k: number): string {
  return OBJECT_COLORS[k % OBJECT_COLORS.length];
}

/** Direction the light comes from (unit, world frame), and the ambient share. */
const LIGHT_DIR = new THREE.Vector3(-0.35, -0.55, 0.76).normalize();
const AMBIENT = 0.42;

/**
 * An unlit material (the cheapest a software rasterizer can run) that shades each vertex by a directional plus
 * ambient light from its normal turned by the instance's matrix, times the instance's colour. Exact for the
 * shapes drawn here whatever the rotation: a box's or an upright cylinder's normals are axis-aligned or
 * horizontal, so the per-axis scale of the instance matrix only changes their length.
 */
export function instanceLit(): THREE.MeshBasicMaterial {
  const m = new THREE.MeshBasicMaterial({ color: '#ffffff' });
  const l = LIGHT_DIR;
  m.onBeforeCompile = (shader) => {
    shader.vertexShader = shader.vertexShader.replace('#include <color_vertex>', [
      '#include <color_vertex>',
      '#if defined( USE_INSTANCING ) && defined( USE_INSTANCING_COLOR )',
      `  vColor.rgb *= ${AMBIENT.toFixed(4)} + ${(1 - AMBIENT).toFixed(4)} * max( 0.0, dot( normalize( mat3( instanceMatrix ) * normal ), vec3( ${l.x.toFixed(6)}, ${l.y.toFixed(6)}, ${l.z.toFixed(6)} ) ) );`,
      '#endif',
    ].join('\n'));
  };
  return m;
}

/** Radius of a goal marker's opaque core, metres, and the opacity of its shell of the success radius. */
const GOAL_CORE_RADIUS = 0.012;
const GOAL_SHELL_OPACITY = 0.35;

/**
 * A goal marker as one geometry (one draw call for every goal): a translucent shell of the success radius around
 * an opaque core at the goal point, so that overlapping goals (Stack's B 5 cm above A) stay apart; the opacity
 * rides in the vertex colours' alpha.
 */
export function goalGeometry(radius: number): THREE.BufferGeometry {
  const core = new THREE.IcosahedronGeometry(GOAL_CORE_RADIUS, 1), shell = new THREE.IcosahedronGeometry(radius, 1);
  const g = mergeGeometries([core, shell])!;
  const n = core.getAttribute('position').count, total = g.getAttribute('position').count;
  const rgba = new Float32Array(4 * total).fill(1);
  for (let v = n; v < total; v++) rgba[4 * v + 3] = GOAL_SHELL_OPACITY;
  g.setAttribute('color', new THREE.BufferAttribute(rgba, 4));
  core.dispose();
  shell.dispose();
  return g;
}
