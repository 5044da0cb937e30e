/**
 * `GET /` (public): the web dashboard. esbuild's text loader inlines web/dist/index.html into
 * this bundle at deploy time (the CDK bundling runs `npx tsx web/build.ts` first), so the
 * function has no file or bucket to read at run time.
 */
import page from '../../web/dist/index.html';
import { servePage } from './serve-page';

export const handler = servePage(page);
