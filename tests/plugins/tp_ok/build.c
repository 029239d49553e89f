/* tp_ok — the registry tests' good plugin (plugin.c is tp_ok's, see there). */
const char tp_id[] = "tp_ok";
const char tp_version[] = "1.0.0";
const int tp_init_rc = 0;
