from mlcourse.cli import main

raise SystemExit(main())
