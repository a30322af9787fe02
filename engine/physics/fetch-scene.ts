/**
 * Geometry of the Fetch-style scene, in the env-local frame of Gymnasium-Robotics Fetch (metres, z up):
 * a table centred at (1.3, 0.75) with its top at z = 0.40, a 5 cm 2 kg cube, and a two-finger gripper
 * whose reference point (the grip site, `obs[0:3]`) lies between the fingertips at the tips' height.
 */

/** [x, y] table centre, metres. */
export const TABLE_CENTER = [1.3, 0.75] as const;
/** [x, y, z] table half-extents, metres (FetchPush table0 size). */
export const TABLE_HALF = [0.25, 0.35, 0.2] as const;
/** Table top height, metres. */
export const TABLE_TOP_Z = 0.4;
/** Cube half-size, metres. */
export const CUBE_HALF = 0.025;
/** Cube mass, kg. */
export const CUBE_MASS = 2;
/** Cube centre height when resting on the table, metres. */
export const CUBE_REST_Z = TABLE_TOP_Z + CUBE_HALF;
/** Friction coefficient of every contact surface (MuJoCo's default 1). */
export const FRICTION = 1;
/** [x, y, z] grip site at the start of every episode, metres (Fetch's initial gripper position). */
export const INITIAL_GRIP = [1.342, 0.749, 0.555] as const;
/** Palm box centre above the grip site and its half-extents, metres. */
export const PALM_OFFSET_Z = 0.06;
export const PALM_HALF = [0.02, 0.03, 0.01] as const;
/** Finger box centre above the grip site and its half-extents; closed fingers sit at y = ±FINGER_CLOSED_Y. */
export const FINGER_OFFSET_Z = 0.025;
export const FINGER_HALF = [0.01, 0.005, 0.025] as const;
export const FINGER_CLOSED_Y = 0.012;
/** [min, max] bounds of the grip-site target per axis, metres; the palm cannot sink into the table. */
export const WORKSPACE_MIN = [0.9, 0.25, TABLE_TOP_Z + 0.005] as const; // z: raised with the table under domain randomization
export const WORKSPACE_MAX = [1.7, 1.25, 0.9] as const;
/** Metres the mocap target moves per unit action per control step (Fetch's 0.05). */
export const ACTION_SCALE = 0.05;
/** Spacing of env cells on the world grid, metres. */
export const CELL_SPACING = 3;
/** How far a World's floor reaches beyond the centre of its outermost tables, metres. */
export const FLOOR_HALF = 1.4;
/** Inner-face half-gap of the fingers at half-opening 0, metres: a finger's inner face sits at y = ±(FINGER_GAP0 + q). */
export const FINGER_GAP0 = FINGER_CLOSED_Y - FINGER_HALF[1];
/** Largest finger half-opening q, metres (Fetch's finger joint range 0-0.05). */
export const FINGER_MAX_OPEN = 0.05;
/**
 * Lowest finger target, metres: below closed, so that a finger stopped on an object keeps a squeeze in reserve (a
 * target under the contact position holds; the finger opens only once the target rises above it).
 */
export const FINGER_TARGET_MIN = -0.02;
/** Metres the finger target moves per unit action[3] per control step (as ACTION_SCALE for the grip site). */
export const FINGER_ACTION_SCALE = 0.05;
/** Fastest finger opening or closing speed, m/s (2 cm per 25 Hz control step). */
export const FINGER_SPEED = 0.5;
/** Deepest a closing finger may press into an object, metres: the grip force comes from this squeeze. */
export const GRASP_BUDGET = 0.0015;
/** Deepest the palm or a fingertip may press down into an object below it, metres. */
export const PRESS_BUDGET = 0.002;
/** Lowest grip-site target above the table top, metres (fingertips never reach into the table). */
export const GRIP_MIN_ABOVE_TABLE = 0.005;

/** The Fetch table as scene data. */
export const FETCH_TABLE = { center: TABLE_CENTER, half: TABLE_HALF, topZ: TABLE_TOP_Z } as const;
