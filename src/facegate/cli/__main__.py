from facegate.cli.main import main

main()
