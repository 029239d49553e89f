/* tp_initfail — id "tp_ok2" whose init returns -1. Installed as tp_ok2/plugin.so;
 * copying the tp_ok2 build over it is "fixing the file". (plugin.c is tp_ok's.) */
const char tp_id[] = "tp_ok2";
const char tp_version[] = "1.0.0";
const int tp_init_rc = -1;
