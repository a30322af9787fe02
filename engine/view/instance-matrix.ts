/** Writers of the scene's per-instance 4×4 matrices (column-major, 16 floats) into an InstancedMesh's buffer. */

/** Writes the 4×4 matrix (column-major) of an axis-aligned scale (sx, sy, sz) then translation (x, y, z) at m[o]. */
export function writeBox(m: Float32Array, o: number, sx: number, sy: number, sz: number, x: number, y: number, z: number): void {
  m[o] = sx; m[o + 1] = 0; m[o + 2] = 0; m[o + 3] = 0;
  m[o + 4] = 0; m[o + 5] = sy; m[o + 6] = 0; m[o + 7] = 0;
  m[o + 8] = 0; m[o + 9] = 0; m[o + 10] = sz; m[o + 11] = 0;
  m[o + 12] = x; m[o + 13] = y; m[o + 14] = z; m[o + 15] = 1;
}

/**
 * Writes the matrix of a scale (sx, sy, sz), then the rotation of quaternion q = (qx, qy, qz, qw) (normalized
 * here; identity when zero), then translation (x, y, z), column-major, at m[o]: column c is R's column c × s_c.
 */
export function writePose(m: Float32Array, o: number, sx: number, sy: number, sz: number, qx: number, qy: number, qz: number, qw: number, x: number, y: number, z: number): void {
  const n2 = qx * qx + qy * qy + qz * qz + qw * qw;
  const k = n2 > 1e-12 ? 2 / n2 : 0;
  const xx = qx * qx * k, yy = qy * qy * k, zz = qz * qz * k, xy = qx * qy * k, xz = qx * qz * k, yz = qy * qz * k;
  const wx = qw * qx * k, wy = qw * qy * k, wz = qw * qz * k;
  m[o] = (1 - yy - zz) * sx; m[o + 1] = (xy + wz) * sx; m[o + 2] = (xz - wy) * sx; m[o + 3] = 0;
  m[o + 4] = (xy - wz) * sy; m[o + 5] = (1 - xx - zz) * sy; m[o + 6] = (yz + wx) * sy; m[o + 7] = 0;
  m[o + 8] = (xz + wy) * sz; m[o + 9] = (yz - wx) * sz; m[o + 10] = (1 - xx - yy) * sz; m[o + 11] = 0;
  m[o + 12] = x; m[o + 13] = y; m[o + 14] = z; m[o + 15] = 1;
}
