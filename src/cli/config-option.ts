export const CONFIG_OPTION_HELP = 'config file (default: $PUSHGATE_CONFIG, then /etc/pushgate/pushgate.yaml)';
