"""Database access: the asyncpg pool, versioned migrations and the queries shared by activities and the API."""
