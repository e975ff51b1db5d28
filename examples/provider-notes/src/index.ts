/**
 * engram-provider-notes: an example third-party Engram memory provider. The default export is the
 * plugin hosts load; the rest is public so other hosts and tests can build the provider directly.
 */
import { notesPlugin } from "./notes-plugin.js";

export * from "./note-file.js";
export * from "./notes-config.js";
export * from "./notes-plugin.js";
export * from "./notes-provider.js";
export default notesPlugin;
