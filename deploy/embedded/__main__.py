from deploy.embedded.runner import main

raise SystemExit(main())
