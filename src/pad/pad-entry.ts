/**
 * The entry point of the page bundle (esbuild: `npm run build:pad` -> dist/pad.js, an IIFE that
 * defines the global `CnnPad`). Everything it pulls in must be free of Node APIs: the bundle is
 * built for the browser platform, so a Node import fails the build.
 */
export { mountPad } from './pad-ui.js';
