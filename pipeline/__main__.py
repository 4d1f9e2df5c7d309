from commune_metrics.cli import main

main()
