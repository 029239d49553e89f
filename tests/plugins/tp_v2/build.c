/* tp_v2 — tp_ok version 2.0.0, same id: the new build of a hot reload (plugin.c is tp_ok's, see there). */
const char tp_id[] = "tp_ok";
const char tp_version[] = "2.0.0";
const int tp_init_rc = 0;
