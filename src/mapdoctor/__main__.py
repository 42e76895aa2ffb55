from mapdoctor.cli.main import main

raise SystemExit(main())
