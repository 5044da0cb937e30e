/** esbuild's text loader (`loader: { '.html': 'text' }`) turns an imported .html file into its contents. */
declare module '*.html' {
  const html: string;
  export default html;
}
