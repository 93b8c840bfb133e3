from ucap_ops.cli import main

main()
