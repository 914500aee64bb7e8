/** Index of the largest of the first n values (the predicted class); the first one wins ties. */
export function argmax(y: ArrayLike<number>, offset = 0, n = 10): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (y[offset + i] > y[offset + best]) best = i;
  return best;
}
